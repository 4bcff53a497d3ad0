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
});
