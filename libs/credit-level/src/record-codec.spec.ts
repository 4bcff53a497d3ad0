import type { LedgerEntry } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import { MAX_UINT64 } from '@swarm/credit';
import {
  decodeAccount,
  decodeEntry,
  decodeEscrow,
  decodeExpiryKey,
  decodeTransfer,
  encodeAccount,
  encodeEntry,
  encodeEscrow,
  encodeTransfer,
  expiryKey,
  expiryKeyBound,
  seqKey,
} from './record-codec';

describe('record codec - round trips', () => {
  it('keeps uint64 amounts and counters exact', () => {
    const a = { id: 'node', available: MAX_UINT64, escrowed: 2n ** 53n + 1n, spent: MAX_UINT64 - 1n, reserves: 7n, closed: false };
    expect(decodeAccount('node', encodeAccount(a))).toEqual(a);
    expect(encodeAccount(a)).toBe('{"available":"18446744073709551615","escrowed":"9007199254740993","spent":"18446744073709551614","reserves":"7"}');
  });

  it('stores `closed` only once an account is closed', () => {
    const closed = { id: 'agent/a', available: 0n, escrowed: 3n, spent: 1n, reserves: 2n, closed: true };
    expect(encodeAccount(closed)).toBe('{"available":"0","escrowed":"3","spent":"1","reserves":"2","closed":true}');
    expect(decodeAccount('agent/a', encodeAccount(closed))).toEqual(closed);
  });

  it('reads a format-1 account (no counters) with zero counters, only when told it is one', () => {
    const formatOne = '{"available":"975","escrowed":"5"}';
    expect(decodeAccount('node', formatOne, true)).toEqual({ id: 'node', available: 975n, escrowed: 5n, spent: 0n, reserves: 0n, closed: false });
    expect(() => decodeAccount('node', formatOne)).toThrow(/corrupt ledger record \(spent\)/);
  });

  it('round-trips open and closed escrows', () => {
    const open = { id: 'e1', payer: 'node', amount: 5n, state: 'open' as const };
    const settled = { ...open, state: 'settled' as const, payee: 'peer', paid: 3n, refunded: 2n };
    expect(decodeEscrow('e1', encodeEscrow(open))).toEqual(open);
    expect(decodeEscrow('e1', encodeEscrow(settled))).toEqual(settled);
  });

  it('round-trips a multi-payee settle, and still reads a single-payee record in the format-1 form', () => {
    const open = { id: 'e1', payer: 'node', amount: 9n, state: 'open' as const, payees: ['a', 'b'] };
    const split = {
      ...open,
      state: 'settled' as const,
      payouts: [
        { payee: 'b', amount: 2n ** 60n },
        { payee: 'a', amount: 1n },
      ],
      paid: 2n ** 60n + 1n,
      refunded: 0n,
    };
    expect(encodeEscrow(split)).toContain('"payouts":[{"payee":"b","amount":"1152921504606846976"},{"payee":"a","amount":"1"}]');
    expect(decodeEscrow('e1', encodeEscrow(split))).toEqual(split);
    const formatOne = '{"payer":"node","amount":"9","state":"settled","payee":"a","paid":"5","refunded":"4","payees":["a","b"]}';
    expect(decodeEscrow('e1', formatOne)).toEqual({ ...open, state: 'settled', payee: 'a', paid: 5n, refunded: 4n });
    expect(encodeEscrow(decodeEscrow('e1', formatOne))).toBe(formatOne);
  });

  it('round-trips an expiry, and reads an escrow stored without one as never expiring', () => {
    const expiring = { id: 'e1', payer: 'node', amount: 5n, state: 'open' as const, expiresAtMs: 1_700_000_600_000 };
    expect(encodeEscrow(expiring)).toContain('"expiresAtMs":1700000600000');
    expect(decodeEscrow('e1', encodeEscrow(expiring))).toEqual(expiring);
    expect(decodeEscrow('e1', '{"payer":"node","amount":"5","state":"open"}')).not.toHaveProperty('expiresAtMs');
  });

  it('orders expiry keys by time, then id, and reads them back', () => {
    expect(expiryKey(999, 'z') < expiryKey(1_000, 'a')).toBe(true);
    expect(expiryKey(1_000, 'a') < expiryKeyBound(1_001)).toBe(true);
    expect(expiryKeyBound(1_000) < expiryKey(1_000, 'a')).toBe(true);
    expect(decodeExpiryKey(expiryKey(Number.MAX_SAFE_INTEGER, 'task-1:a.b'))).toEqual({ expiresAtMs: Number.MAX_SAFE_INTEGER, escrowId: 'task-1:a.b' });
  });

  it('round-trips log entries, storing the kind by name', () => {
    const e: LedgerEntry = { seq: 9n, kind: EntryKind.ENTRY_KIND_SETTLE, escrowId: 'e1', fromAccount: 'a', toAccount: 'b', amount: 3n, atMs: 1_700_000_000_000n };
    expect(encodeEntry(e)).toContain('"kind":"SETTLE"');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
  });

  it('round-trips a transfer record and a TRANSFER entry, storing the kind by name', () => {
    const t = { id: 'fund-1', from: 'node', to: 'agent/bot-1', amount: MAX_UINT64 };
    expect(encodeTransfer(t)).toBe('{"from":"node","to":"agent/bot-1","amount":"18446744073709551615"}');
    expect(decodeTransfer('fund-1', encodeTransfer(t))).toEqual(t);
    expect(() => decodeTransfer('x', '{"from":"node","to":"agent/a"}')).toThrow(/corrupt ledger record \(amount\)/);
    const closing = { id: 'defund-1', from: 'agent/bot-1', to: 'node', amount: 0n, closedAtSeq: 12n };
    expect(encodeTransfer(closing)).toBe('{"from":"agent/bot-1","to":"node","amount":"0","closedAtSeq":"12"}');
    expect(decodeTransfer('defund-1', encodeTransfer(closing))).toEqual(closing);
    const e: LedgerEntry = { seq: 2n, kind: EntryKind.ENTRY_KIND_TRANSFER, escrowId: 'fund-1', fromAccount: 'node', toAccount: 'agent/bot-1', amount: 40n, atMs: 5n };
    expect(encodeEntry(e)).toContain('"kind":"TRANSFER"');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
  });

  it('round-trips a RECEIPT_IN entry (format 3), storing the kind by name', () => {
    const e: LedgerEntry = { seq: 4n, kind: EntryKind.ENTRY_KIND_RECEIPT_IN, escrowId: 'task-1:peer', fromAccount: 'payer', toAccount: 'node', amount: 34n, atMs: 6n };
    expect(encodeEntry(e)).toContain('"kind":"RECEIPT_IN"');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
  });

  it('round-trips a VOID entry, storing the kind by name', () => {
    const e: LedgerEntry = { seq: 5n, kind: EntryKind.ENTRY_KIND_VOID, escrowId: 'task-1:payer:peer', fromAccount: 'peer', toAccount: 'node', amount: 34n, atMs: 7n };
    expect(encodeEntry(e)).toContain('"kind":"VOID"');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
  });

  it('round-trips a REINSTATE entry, storing the kind by name', () => {
    const e: LedgerEntry = { seq: 6n, kind: EntryKind.ENTRY_KIND_REINSTATE, escrowId: 'task-1:payer:peer', fromAccount: 'node', toAccount: 'peer', amount: 34n, atMs: 8n };
    expect(encodeEntry(e)).toContain('"kind":"REINSTATE"');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
  });

  it('orders log keys by seq', () => {
    expect(seqKey(9n) < seqKey(10n)).toBe(true);
    expect(seqKey(MAX_UINT64)).toHaveLength(20);
  });
});

describe('record codec - damage', () => {
  it.each([
    ['not JSON', () => decodeAccount('a', '{')],
    ['a number where a string belongs', () => decodeAccount('a', '{"available":5,"escrowed":"0","spent":"0","reserves":"0"}')],
    ['a negative amount', () => decodeAccount('a', '{"available":"-5","escrowed":"0","spent":"0","reserves":"0"}')],
    ['a negative counter', () => decodeAccount('a', '{"available":"5","escrowed":"0","spent":"0","reserves":"-1"}')],
    ['a closed flag that is not true', () => decodeAccount('a', '{"available":"5","escrowed":"0","spent":"0","reserves":"0","closed":"yes"}')],
    ['a close at a seq that is not a number', () => decodeTransfer('t', '{"from":"agent/a","to":"node","amount":"0","closedAtSeq":"soon"}')],
    ['an unknown escrow state', () => decodeEscrow('e', '{"payer":"a","amount":"1","state":"lost"}')],
    ['an expiry that is not a safe whole number', () => decodeEscrow('e', '{"payer":"a","amount":"1","state":"open","expiresAtMs":1.5}')],
    ['payouts that are not a list', () => decodeEscrow('e', '{"payer":"a","amount":"1","state":"settled","payouts":{"payee":"b"}}')],
    ['a payout without an amount', () => decodeEscrow('e', '{"payer":"a","amount":"1","state":"settled","payouts":[{"payee":"b"}]}')],
    ['an expiry key without an id', () => decodeExpiryKey('0000000000001000!')],
    ['an unknown entry kind', () => decodeEntry('{"seq":"1","kind":"MINT","escrowId":"","from":"","to":"a","amount":"1","atMs":"0"}')],
  ])('refuses %s', (_, decode) => {
    expect(decode).toThrow(/corrupt ledger record/);
  });
});
