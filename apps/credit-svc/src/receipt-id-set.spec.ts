import { ReceiptIdSet } from './receipt-id-set';

describe('receipt id set', () => {
  it('holds each id once, through growth, and nothing it was not given', () => {
    const ids = new ReceiptIdSet();
    const n = 20_000;
    // Counted, then asserted once: an expect per id is most of this test's time.
    let refused = 0;
    for (let i = 0; i < n; i += 1) if (!ids.add(`task-${i}:payer:payee`)) refused += 1;
    expect(refused).toBe(0);
    expect(ids.size).toBe(n);
    let missing = 0;
    for (let i = 0; i < n; i += 1) if (!ids.has(`task-${i}:payer:payee`)) missing += 1;
    expect(missing).toBe(0);
    expect(ids.add('task-7:payer:payee')).toBe(false);
    expect(ids.size).toBe(n);
    let strays = 0;
    for (let i = n; i < 2 * n; i += 1) if (ids.has(`task-${i}:payer:payee`)) strays += 1;
    expect(strays).toBe(0);
  });

  it('gives its hashes and is made again from them: the same ids, nothing else; repeats and empty slots dropped', () => {
    const ids = new ReceiptIdSet();
    for (let i = 0; i < 1_000; i += 1) ids.add(`task-${i}`);
    const hashes = ids.hashes();
    expect(hashes.length).toBe(2_000);
    const doubled = new Uint32Array([...hashes, ...hashes.subarray(0, 20), 0, 0, 7]);
    const again = ReceiptIdSet.fromHashes(doubled);
    expect(again.size).toBe(1_000);
    let missing = 0;
    for (let i = 0; i < 1_000; i += 1) if (!again.has(`task-${i}`)) missing += 1;
    expect(missing).toBe(0);
    expect(again.has('task-1000')).toBe(false);
    expect(again.add('task-5')).toBe(false);
    expect(again.add('task-1000')).toBe(true);
  });
});
