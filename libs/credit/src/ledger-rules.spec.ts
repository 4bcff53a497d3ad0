import { EntryKind, ErrorCode, isAccountId, SwarmError } from '@swarm/contracts';
import type { Account, Escrow } from './ledger-records';
import { emptyAccount, MAX_UINT64 } from './ledger-records';
import type { EscrowLifetime, ReserveRecords, Stamp } from './ledger-rules';
import {
  balanceRule,
  escrowExpiry,
  genesisRule,
  isDue,
  MAX_ID_LENGTH,
  MAX_PAYOUTS,
  refundRule,
  reserveRule,
  settleRule,
  validateAccount,
  validateLifetime,
  reinstateRule,
  voidRule,
} from './ledger-rules';

const at: Stamp = { nextSeq: 7n, atMs: 1_000 };
/** The providers test escrows are reserved for. */
const PAYEES = ['peer', 'peer-a', 'peer-b', 'node'];
const lifetime: EscrowLifetime = { defaultMs: 600, maxMs: 3_600 };
const acct = (id: string, available: bigint, escrowed: bigint, over: Partial<Account> = {}): Account => ({ ...emptyAccount(id), available, escrowed, ...over });
const node = acct('node', 100n, 0n);
const open: Escrow = { id: 'e1', payer: 'node', amount: 30n, state: 'open', expiresAtMs: 1_600, payees: PAYEES };
/** `node` after reserving `open`. */
const nodeWithEscrow = acct('node', 70n, 30n, { reserves: 1n });

/** A reserve asking for the default lifetime unless the request names an expiry. */
const reserve = (req: { escrowId: string; account: string; amount: bigint; expiresAtMs?: bigint; payees?: string[] }, current: ReserveRecords, stamp: Stamp) =>
  reserveRule({ expiresAtMs: 0n, payees: PAYEES, ...req }, current, stamp, lifetime);

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
}

describe('ledger rules - validation', () => {
  const reserveCode = (escrowId: string, account: string, amount: bigint) => codeOf(() => reserve({ escrowId, account, amount }, { escrow: undefined, payer: node }, at));

  it.each([
    ['empty escrow id', '', 'node', 1n],
    ['escrow id over the length limit', 'e'.repeat(MAX_ID_LENGTH + 1), 'node', 1n],
    ['escrow id with a space', 'e 1', 'node', 1n],
    ['escrow id with a slash', 'e/1', 'node', 1n],
    ['zero amount', 'e1', 'node', 0n],
    ['amount over uint64', 'e1', 'node', MAX_UINT64 + 1n],
  ])('refuses %s as INVALID_ARGUMENT', (_, escrowId, account, amount) => {
    expect(reserveCode(escrowId, account, amount)).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('accepts ids of exactly the maximum length and the whole charset', () => {
    const id = 'aZ09._:-'.repeat(MAX_ID_LENGTH / 8);
    expect(codeOf(() => reserve({ escrowId: id, account: 'node', amount: 1n }, { escrow: undefined, payer: node }, at))).toBeUndefined();
  });

  it('validates before looking at state (bad input on a missing escrow is INVALID_ARGUMENT)', () => {
    expect(codeOf(() => settleRule({ escrowId: 'nope', payee: '', amount: 1n, payouts: [] }, { escrow: undefined, payer: undefined, payees: new Map() }, at))).toBe(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    );
  });

  it('treats a record passed under the wrong id as a bug, not a user error', () => {
    expect(() => reserve({ escrowId: 'e1', account: 'node', amount: 1n }, { escrow: undefined, payer: { ...node, id: 'x' } }, at)).toThrow(/got record x for node/);
  });
});

describe('ledger rules - account ids', () => {
  it("refuses exactly what @swarm/contracts' isAccountId refuses (the CLI checks --account with it before sending)", () => {
    const samples = ['node', 'a'.repeat(MAX_ID_LENGTH), 'a'.repeat(MAX_ID_LENGTH + 1), '', 'a b', 'a/b', 'agent/bot-1', 'agent/', 'agent/Bad', `agent/${'a'.repeat(33)}`, 'é'];
    for (const account of samples) {
      expect({ account, valid: codeOf(() => validateAccount('account', account)) === undefined }).toEqual({ account, valid: isAccountId(account) });
    }
  });
});

describe('ledger rules - genesis', () => {
  it('credits the grant to a node account that does not exist yet', () => {
    const c = genesisRule('node', 1000n, undefined, at);
    expect(c.accounts).toEqual([acct('node', 1000n, 0n)]);
    expect(c.entries).toEqual([{ seq: 7n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'node', amount: 1000n, atMs: 1000n }]);
  });

  it('does nothing once the account exists, or for a zero grant', () => {
    expect(genesisRule('node', 1000n, node, at).entries).toEqual([]);
    expect(genesisRule('node', 0n, undefined, at).entries).toEqual([]);
  });
});

describe('ledger rules - reserve', () => {
  it('moves the amount from available to escrowed and opens the escrow', () => {
    const c = reserve({ escrowId: 'e1', account: 'node', amount: 30n }, { escrow: undefined, payer: node }, at);
    expect(c.result).toEqual({ escrowId: 'e1', available: 70n });
    expect(c.accounts).toEqual([nodeWithEscrow]);
    expect(c.escrows).toEqual([open]);
    expect(c.entries).toMatchObject([{ seq: 7n, kind: EntryKind.ENTRY_KIND_RESERVE, escrowId: 'e1', fromAccount: 'node', toAccount: '', amount: 30n }]);
  });

  it('returns the existing escrow for the same (id, account, amount) without moving credit', () => {
    const c = reserve({ escrowId: 'e1', account: 'node', amount: 30n }, { escrow: open, payer: nodeWithEscrow }, at);
    expect(c).toEqual({ result: { escrowId: 'e1', available: 70n }, accounts: [], escrows: [], entries: [] });
  });

  it('refuses to replay the reserve of a closed escrow (it must not look like fresh funds)', () => {
    const closed: Escrow = { ...open, state: 'refunded', refunded: 30n };
    expect(codeOf(() => reserve({ escrowId: 'e1', account: 'node', amount: 30n }, { escrow: closed, payer: { ...node, available: 0n } }, at))).toBe(
      ErrorCode.ERROR_CODE_ESCROW_CLOSED,
    );
  });

  it('refuses another reserve under an existing id as ESCROW_CONFLICT', () => {
    const other = acct('other', 100n, 0n);
    expect(codeOf(() => reserve({ escrowId: 'e1', account: 'node', amount: 31n }, { escrow: open, payer: nodeWithEscrow }, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
    expect(codeOf(() => reserve({ escrowId: 'e1', account: 'other', amount: 30n }, { escrow: open, payer: other }, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
  });

  it('refuses an unknown payer as UNKNOWN_ACCOUNT', () => {
    expect(codeOf(() => reserve({ escrowId: 'e1', account: 'ghost', amount: 1n }, { escrow: undefined, payer: undefined }, at))).toBe(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
  });

  it('refuses more than available as INSUFFICIENT_CREDIT, saying have and need', () => {
    expect(() => reserve({ escrowId: 'e1', account: 'node', amount: 101n }, { escrow: undefined, payer: node }, at)).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, message: 'account node has 100 available, needs 101' }),
    );
  });

  it('needs 1 to 16 distinct, valid payees, and a retry must name the same ones', () => {
    const base = { escrowId: 'e2', account: 'node', amount: 1n };
    const none = { escrow: undefined, payer: node };
    expect(codeOf(() => reserve({ ...base, payees: [] }, none, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => reserve({ ...base, payees: Array.from({ length: 17 }, (_, i) => `p${i}`) }, none, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => reserve({ ...base, payees: ['peer', 'peer'] }, none, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => reserve({ ...base, payees: ['bad id'] }, none, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(reserve({ ...base, payees: ['peer'] }, none, at).escrows[0]?.payees).toEqual(['peer']);
    const retry = { escrowId: 'e1', account: 'node', amount: 30n, payees: ['thief'] };
    expect(codeOf(() => reserve(retry, { escrow: open, payer: nodeWithEscrow }, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
  });

  it('lets a reserve take exactly everything available', () => {
    expect(reserve({ escrowId: 'e1', account: 'node', amount: 100n }, { escrow: undefined, payer: node }, at).result.available).toBe(0n);
  });
});

describe('ledger rules - expiry', () => {
  const withExpiry = (expiresAtMs: bigint) => () => reserve({ escrowId: 'e1', account: 'node', amount: 30n, expiresAtMs }, { escrow: undefined, payer: node }, at);

  it('gives an escrow reserved with expires_at_ms 0 the default lifetime, counted from the stamp', () => {
    expect(withExpiry(0n)().escrows[0]?.expiresAtMs).toBe(1_000 + lifetime.defaultMs);
    expect(escrowExpiry(0n, 1_000.7, lifetime)).toBe(1_600);
  });

  it('keeps an expiry the caller asks for, up to exactly the maximum lifetime', () => {
    expect(withExpiry(1_001n)().escrows[0]?.expiresAtMs).toBe(1_001);
    expect(withExpiry(4_600n)().escrows[0]?.expiresAtMs).toBe(4_600);
  });

  it.each([
    ['in the past', 999n, /is not after now \(1000\)/],
    ['exactly now', 1_000n, /is not after now/],
    ['beyond the maximum lifetime', 4_601n, /more than the maximum escrow lifetime of 3600 ms/],
    ['beyond uint64 precision of a JS number', 2n ** 63n, /more than the maximum/],
  ])('refuses an expiry %s as INVALID_ARGUMENT', (_, expiresAtMs, message) => {
    expect(codeOf(withExpiry(expiresAtMs))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(withExpiry(expiresAtMs)).toThrow(message);
  });

  it('answers a retry with the existing escrow whatever expiry it asks for, even one now in the past', () => {
    for (const expiresAtMs of [0n, 5n, 1_500n, 2n ** 63n]) {
      const c = reserve({ escrowId: 'e1', account: 'node', amount: 30n, expiresAtMs }, { escrow: open, payer: nodeWithEscrow }, at);
      expect(c).toEqual({ result: { escrowId: 'e1', available: 70n }, accounts: [], escrows: [], entries: [] });
    }
  });

  it('is due once the clock reaches the expiry, only while open, and never without an expiry', () => {
    expect(isDue(open, 1_599)).toBe(false);
    expect(isDue(open, 1_600)).toBe(true);
    expect(isDue({ ...open, state: 'settled', payee: 'peer', paid: 30n, refunded: 0n }, 9_999)).toBe(false);
    expect(isDue({ id: 'old', payer: 'node', amount: 1n, state: 'open' }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('refuses a lifetime the ledger cannot use', () => {
    expect(() => validateLifetime({ defaultMs: 600, maxMs: 3_600 })).not.toThrow();
    for (const bad of [
      { defaultMs: 0, maxMs: 10 },
      { defaultMs: 11, maxMs: 10 },
      { defaultMs: 1.5, maxMs: 10 },
    ]) {
      expect(() => validateLifetime(bad)).toThrow(RangeError);
    }
  });
});

describe('ledger rules - settle', () => {
  const current = { escrow: open, payer: nodeWithEscrow, payees: new Map([['peer', undefined]]) };

  it('pays the payee, refunds the rest to the payer, and closes the escrow in one change', () => {
    const c = settleRule({ escrowId: 'e1', payee: 'peer', amount: 20n, payouts: [] }, current, at);
    expect(c.result).toEqual({ escrowId: 'e1', paid: 20n, refunded: 10n });
    expect(c.accounts).toEqual([acct('node', 80n, 0n, { spent: 20n, reserves: 1n }), acct('peer', 20n, 0n)]);
    expect(c.escrows).toEqual([{ ...open, state: 'settled', payee: 'peer', paid: 20n, refunded: 10n }]);
    expect(c.entries.map((e) => [e.seq, e.kind, e.fromAccount, e.toAccount, e.amount])).toEqual([
      [7n, EntryKind.ENTRY_KIND_SETTLE, 'node', 'peer', 20n],
      [8n, EntryKind.ENTRY_KIND_REFUND, 'node', 'node', 10n],
    ]);
  });

  it('refuses a payee the escrow was not reserved for as ESCROW_CONFLICT, changing nothing', () => {
    expect(codeOf(() => settleRule({ escrowId: 'e1', payee: 'thief', amount: 30n, payouts: [] }, current, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
  });

  it('writes no refund entry when the whole escrow is paid', () => {
    const c = settleRule({ escrowId: 'e1', payee: 'peer', amount: 30n, payouts: [] }, current, at);
    expect(c.entries).toHaveLength(1);
    expect(c.result.refunded).toBe(0n);
  });

  it('adds to an existing payee account', () => {
    const c = settleRule({ escrowId: 'e1', payee: 'peer', amount: 5n, payouts: [] }, { ...current, payees: new Map([['peer', acct('peer', 1n, 2n, { reserves: 3n })]]) }, at);
    expect(c.accounts[1]).toEqual(acct('peer', 6n, 2n, { reserves: 3n }));
  });

  it('lets a payer pay itself (one record takes payout and refund)', () => {
    const c = settleRule({ escrowId: 'e1', payee: 'node', amount: 5n, payouts: [] }, { ...current, payees: new Map([['node', nodeWithEscrow]]) }, at);
    expect(c.accounts).toEqual([acct('node', 100n, 0n, { spent: 5n, reserves: 1n })]);
  });

  it('refuses more than escrowed as INVALID_ARGUMENT', () => {
    expect(codeOf(() => settleRule({ escrowId: 'e1', payee: 'peer', amount: 31n, payouts: [] }, current, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('refuses a missing escrow as ESCROW_NOT_FOUND', () => {
    expect(codeOf(() => settleRule({ escrowId: 'nope', payee: 'peer', amount: 1n, payouts: [] }, { escrow: undefined, payer: undefined, payees: new Map() }, at))).toBe(
      ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND,
    );
  });

  it('returns the recorded outcome for the same settle again, and refuses any other close', () => {
    const settled: Escrow = { ...open, state: 'settled', payee: 'peer', paid: 20n, refunded: 10n };
    const after = { escrow: settled, payer: node, payees: new Map([['peer', acct('peer', 20n, 0n)]]) };
    expect(settleRule({ escrowId: 'e1', payee: 'peer', amount: 20n, payouts: [] }, after, at)).toEqual({
      result: { escrowId: 'e1', paid: 20n, refunded: 10n },
      accounts: [],
      escrows: [],
      entries: [],
    });
    expect(codeOf(() => settleRule({ escrowId: 'e1', payee: 'peer', amount: 21n, payouts: [] }, after, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CLOSED);
    expect(codeOf(() => settleRule({ escrowId: 'e1', payee: 'other', amount: 20n, payouts: [] }, after, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CLOSED);
    expect(codeOf(() => refundRule({ escrowId: 'e1' }, after, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CLOSED);
  });
});

describe('ledger rules - refund', () => {
  it('returns the whole escrow to the payer once', () => {
    const c = refundRule({ escrowId: 'e1' }, { escrow: open, payer: nodeWithEscrow }, at);
    expect(c.result).toEqual({ escrowId: 'e1', refunded: 30n });
    expect(c.accounts).toEqual([{ ...node, reserves: 1n }]);
    expect(c.escrows).toEqual([{ ...open, state: 'refunded', refunded: 30n }]);
    expect(c.entries).toMatchObject([{ kind: EntryKind.ENTRY_KIND_REFUND, fromAccount: 'node', toAccount: 'node', amount: 30n }]);
  });

  it('returns the recorded outcome for a second refund, and refuses a settle after it', () => {
    const refunded: Escrow = { ...open, state: 'refunded', refunded: 30n };
    expect(refundRule({ escrowId: 'e1' }, { escrow: refunded, payer: node }, at)).toMatchObject({ result: { refunded: 30n }, entries: [] });
    expect(codeOf(() => settleRule({ escrowId: 'e1', payee: 'peer', amount: 1n, payouts: [] }, { escrow: refunded, payer: node, payees: new Map() }, at))).toBe(
      ErrorCode.ERROR_CODE_ESCROW_CLOSED,
    );
  });

  it('refuses a missing escrow as ESCROW_NOT_FOUND', () => {
    expect(codeOf(() => refundRule({ escrowId: 'nope' }, { escrow: undefined, payer: undefined }, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND);
  });
});

describe('ledger rules - balance', () => {
  it('reads an account and refuses an unknown one', () => {
    expect(balanceRule('node', { ...nodeWithEscrow, spent: 4n })).toEqual({ account: 'node', available: 70n, escrowed: 30n, spent: 4n, reserves: 1n, closed: false });
    expect(codeOf(() => balanceRule('ghost', undefined))).toBe(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
    expect(codeOf(() => balanceRule('', undefined))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

describe('ledger rules - multi-payee settle', () => {
  const split = (payouts: Array<[string, bigint]>, over: { payee?: string; amount?: bigint } = {}) => ({
    escrowId: 'e1',
    payee: over.payee ?? '',
    amount: over.amount ?? 0n,
    payouts: payouts.map(([payee, amount]) => ({ payee, amount })),
  });
  const current = {
    escrow: open,
    payer: nodeWithEscrow,
    payees: new Map<string, Account | undefined>([
      ['peer-a', acct('peer-a', 3n, 1n)],
      ['peer-b', undefined],
    ]),
  };

  it('pays each payout in order, the payer included, then refunds the rest, as one change', () => {
    const c = settleRule(
      split([
        ['peer-b', 10n],
        ['node', 4n],
        ['peer-a', 6n],
      ]),
      current,
      at,
    );
    expect(c.result).toEqual({ escrowId: 'e1', paid: 20n, refunded: 10n });
    expect(c.accounts).toEqual([acct('node', 84n, 0n, { spent: 20n, reserves: 1n }), acct('peer-b', 10n, 0n), acct('peer-a', 9n, 1n)]);
    expect(c.escrows).toEqual([
      {
        ...open,
        state: 'settled',
        payouts: [
          { payee: 'peer-b', amount: 10n },
          { payee: 'node', amount: 4n },
          { payee: 'peer-a', amount: 6n },
        ],
        paid: 20n,
        refunded: 10n,
      },
    ]);
    expect(c.entries.map((e) => [e.seq, e.kind, e.toAccount, e.amount])).toEqual([
      [7n, EntryKind.ENTRY_KIND_SETTLE, 'peer-b', 10n],
      [8n, EntryKind.ENTRY_KIND_SETTLE, 'node', 4n],
      [9n, EntryKind.ENTRY_KIND_SETTLE, 'peer-a', 6n],
      [10n, EntryKind.ENTRY_KIND_REFUND, 'node', 10n],
    ]);
  });

  it('refuses both forms at once, repeats, zeros, more than MAX_PAYOUTS and more than escrowed as INVALID_ARGUMENT', () => {
    for (const req of [
      split([['peer-a', 1n]], { payee: 'peer-a' }),
      split([['peer-a', 1n]], { amount: 1n }),
      split([
        ['peer-a', 1n],
        ['peer-a', 1n],
      ]),
      split([['peer-a', 0n]]),
      split(Array.from({ length: MAX_PAYOUTS + 1 }, (_, i): [string, bigint] => [`p${i}`, 1n])),
      split([
        ['peer-a', 20n],
        ['peer-b', 11n],
      ]),
    ]) {
      expect(codeOf(() => settleRule(req, current, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    }
    expect(
      codeOf(() =>
        settleRule(
          split([
            ['peer-a', 1n],
            ['thief', 1n],
          ]),
          current,
          at,
        ),
      ),
    ).toBe(ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
  });

  it('treats a payee record the caller did not pass as a bug, not as a new account', () => {
    expect(() => settleRule(split([['peer', 1n]]), current, at)).toThrow(/no record for payee peer/);
  });

  it('answers a retry naming the same payouts in another order with the recorded outcome', () => {
    const settled = settleRule(
      split([
        ['peer-b', 10n],
        ['peer-a', 6n],
      ]),
      current,
      at,
    ).escrows[0];
    const retry = settleRule(
      split([
        ['peer-a', 6n],
        ['peer-b', 10n],
      ]),
      { ...current, escrow: settled },
      at,
    );
    expect(retry).toEqual({ result: { escrowId: 'e1', paid: 16n, refunded: 14n }, accounts: [], escrows: [], entries: [] });
    expect(codeOf(() => settleRule(split([['peer-a', 6n]]), { ...current, escrow: settled }, at))).toBe(ErrorCode.ERROR_CODE_ESCROW_CLOSED);
  });
});

describe('ledger rules - closed accounts', () => {
  /** A revoked agent with one escrow still open. */
  const agent = acct('agent/bot', 0n, 30n, { reserves: 2n, spent: 5n, closed: true });
  const agentEscrow: Escrow = { ...open, payer: 'agent/bot' };
  const nodeRecord = { id: 'node', account: node };

  it('refuses a reserve from a closed account as PERMISSION_DENIED, changing nothing', () => {
    const funded = { ...agent, available: 50n };
    const attempt = () => reserve({ escrowId: 'e2', account: 'agent/bot', amount: 1n }, { escrow: undefined, payer: funded }, at);
    expect(codeOf(attempt)).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
    expect(attempt).toThrow('account agent/bot is closed (its agent was revoked): it pays for and receives nothing more');
    // A retry of a reserve made before the close still answers it.
    expect(reserve({ escrowId: 'e1', account: 'agent/bot', amount: 30n }, { escrow: agentEscrow, payer: agent }, at).entries).toEqual([]);
  });

  it('refunds its escrow to the node account, never to it', () => {
    const c = refundRule({ escrowId: 'e1' }, { escrow: agentEscrow, payer: agent, node: nodeRecord }, at);
    expect(c.accounts).toEqual([
      { ...agent, escrowed: 0n },
      { ...node, available: 130n },
    ]);
    expect(c.entries).toMatchObject([{ kind: EntryKind.ENTRY_KIND_REFUND, fromAccount: 'agent/bot', toAccount: 'node', amount: 30n }]);
  });

  it('sends the rest of a settle to the node, in one record with the node as a payee', () => {
    const c = settleRule(
      {
        escrowId: 'e1',
        payee: '',
        amount: 0n,
        payouts: [
          { payee: 'peer', amount: 10n },
          { payee: 'node', amount: 5n },
        ],
      },
      {
        escrow: agentEscrow,
        payer: agent,
        payees: new Map([
          ['peer', undefined],
          ['node', node],
        ]),
        node: nodeRecord,
      },
      at,
    );
    expect(c.accounts).toEqual([{ ...agent, escrowed: 0n, spent: 20n }, acct('peer', 10n, 0n), { ...node, available: 120n }]);
    expect(c.entries.map((e) => [e.kind, e.toAccount, e.amount])).toEqual([
      [EntryKind.ENTRY_KIND_SETTLE, 'peer', 10n],
      [EntryKind.ENTRY_KIND_SETTLE, 'node', 5n],
      [EntryKind.ENTRY_KIND_REFUND, 'node', 15n],
    ]);
  });

  it('treats a refund of a closed account without the node record as a bug', () => {
    expect(() => refundRule({ escrowId: 'e1' }, { escrow: agentEscrow, payer: agent }, at)).toThrow(/no node account for the refund of closed account agent\/bot/);
  });

  it('answers balance with the counters and the close', () => {
    expect(balanceRule('agent/bot', agent)).toEqual({ account: 'agent/bot', available: 0n, escrowed: 30n, spent: 5n, reserves: 2n, closed: true });
  });
});

describe('voidRule', () => {
  const receipt = { receiptId: 't1:node:peer', amount: 60n };
  const node = { ...emptyAccount('node'), available: 900n };

  it('takes the amount back from the payee to the node', () => {
    const change = voidRule('peer', { ...emptyAccount('peer'), available: 80n }, 'node', node, receipt, at);
    expect(change.result).toBe(60n);
    expect(change.accounts).toEqual([expect.objectContaining({ id: 'peer', available: 20n }), expect.objectContaining({ id: 'node', available: 960n })]);
    expect(change.entries).toEqual([expect.objectContaining({ kind: EntryKind.ENTRY_KIND_VOID, escrowId: 't1:node:peer', fromAccount: 'peer', toAccount: 'node', amount: 60n })]);
  });

  it('takes what the payee still holds, and nothing (no entry) when it holds none', () => {
    expect(voidRule('peer', { ...emptyAccount('peer'), available: 10n }, 'node', node, receipt, at).result).toBe(10n);
    const none = voidRule('peer', undefined, 'node', node, receipt, at);
    expect(none).toMatchObject({ result: 0n, accounts: [], entries: [] });
  });
});

describe('reinstateRule', () => {
  const receipt = { receiptId: 't1:node:peer', amount: 60n };

  it("pays the amount back from the node's account to the payee's", () => {
    const change = reinstateRule('node', { ...emptyAccount('node'), available: 900n }, 'peer', undefined, receipt, at);
    expect(change.result).toBe(60n);
    expect(change.accounts).toEqual([expect.objectContaining({ id: 'node', available: 840n }), expect.objectContaining({ id: 'peer', available: 60n })]);
    expect(change.entries).toEqual([
      expect.objectContaining({ kind: EntryKind.ENTRY_KIND_REINSTATE, escrowId: 't1:node:peer', fromAccount: 'node', toAccount: 'peer', amount: 60n }),
    ]);
  });

  it("refuses with INSUFFICIENT_CREDIT while the node's account holds less (nothing changed), and an overflow", () => {
    expect(() => reinstateRule('node', { ...emptyAccount('node'), available: 59n }, 'peer', undefined, receipt, at)).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT }),
    );
    expect(() => reinstateRule('node', undefined, 'peer', undefined, receipt, at)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT }));
    expect(() => reinstateRule('node', { ...emptyAccount('node'), available: 900n }, 'peer', { ...emptyAccount('peer'), available: MAX_UINT64 - 1n }, receipt, at)).toThrow(
      /would overflow peer/,
    );
  });
});
