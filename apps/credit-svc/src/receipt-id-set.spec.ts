import { ReceiptIdSet } from './receipt-id-set';

describe('receipt id set', () => {
  it('holds each id once, through growth, and nothing it was not given', () => {
    const ids = new ReceiptIdSet();
    const n = 20_000;
    for (let i = 0; i < n; i += 1) expect(ids.add(`task-${i}:payer:payee`)).toBe(true);
    expect(ids.size).toBe(n);
    for (let i = 0; i < n; i += 1) expect(ids.has(`task-${i}:payer:payee`)).toBe(true);
    expect(ids.add('task-7:payer:payee')).toBe(false);
    expect(ids.size).toBe(n);
    let strays = 0;
    for (let i = n; i < 2 * n; i += 1) if (ids.has(`task-${i}:payer:payee`)) strays += 1;
    expect(strays).toBe(0);
  });
});
