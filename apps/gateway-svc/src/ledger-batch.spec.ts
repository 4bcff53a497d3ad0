import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { BusClient } from '@swarm/bus';
import type { ChainSigner, SignatureCheck } from '@swarm/chain';
import { cachedSignatureCheck, countersignReceipt, countersignVoid, makeReceipt, makeVoid, MAX_RECEIPT_AHEAD_MS } from '@swarm/chain';
import type { SignedReceipt, SignedVoid } from '@swarm/contracts';
import { CreditAcceptReceipt, CreditAcceptVoid, ErrorCode, Receipt, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { PeerCall } from '@swarm/gateway';
import { createServeTickets, nodeIdOfKey } from '@swarm/records';
import { SELDOM_ITEM_LIMITS } from './ledger-batch';
import { createSettledReceipts } from './settled-receipts';
import { createPeerBudgets } from './peer-budgets';
import { createUnpaidServes, DEFAULT_UNPAID_SERVE_LIMITS } from './unpaid-serves';
import { createPeerDeliverReceiptsHandler } from './receipt-relay';
import { createPeerVoidReceiptsHandler } from './void-relay';

const SPKI_PREFIX_BYTES = 12;
/** The payee's wall clock at the start of each test (receipts are dated 1 ms by default: long ago). */
const WALL_MS = 1_000_000;

function signer(): ChainSigner & { readonly nodeId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX_BYTES));
  return { nodeId: nodeIdOfKey(raw), publicKey: raw, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

const sha256 = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());

/**
 * The payee side of receipts and voids, with credit-svc stood in for (it keeps the receipts it
 * took, refuses other bytes under one of their ids, and can be made to fail one ask UNAVAILABLE):
 * what it is asked, and how many signatures the gateway verifies before asking it.
 */
function payeeSide() {
  const payee = signer();
  const payer = signer();
  const tickets = createServeTickets(payee);
  let now = 0;
  const stopwatch: Stopwatch = { now: () => now };
  const clock = { now: () => WALL_MS + now };
  const asked: string[] = [];
  const taken = new Map<string, string>();
  const unavailableOnce = new Set<string>();
  const appendOnVoid = new Map<string, SignedReceipt>();
  const bus = {
    request: (rpc: unknown, req: { receipt?: SignedReceipt; signedVoid?: SignedVoid }) => {
      if (rpc === CreditAcceptReceipt && req.receipt) {
        asked.push('receipt');
        const id = Receipt.decode(req.receipt.receipt).receiptId;
        const bytes = Buffer.from(req.receipt.receipt).toString('hex');
        if (unavailableOnce.delete(id)) return Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, "this node's ledger did not answer", true));
        if (taken.has(id) && taken.get(id) !== bytes)
          return Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `receipt ${id} is already in this chain with other contents`));
        const alreadyHeld = taken.has(id);
        taken.set(id, bytes);
        return Promise.resolve({ receipt: countersignReceipt(req.receipt, payee), alreadyHeld });
      }
      if (rpc === CreditAcceptVoid && req.signedVoid) {
        asked.push('void');
        // A served receipt its payer voided: the ledger appends the receipt instead (void-book.ts).
        const appended = appendOnVoid.get(Receipt.decode(req.signedVoid.receipt).receiptId);
        if (appended) return Promise.resolve({ signedVoid: undefined, receipt: countersignReceipt(appended, payee), receiptAppended: true });
        return Promise.resolve({ signedVoid: countersignVoid(req.signedVoid, payee), receipt: undefined, receiptAppended: false });
      }
      return Promise.reject(new Error('unexpected request'));
    },
  } as unknown as BusClient;
  const inner = cachedSignatureCheck();
  let verified = 0;
  const checkSignature: SignatureCheck = (key, bytes, sig) => (verified++, inner(key, bytes, sig));
  const deps = { nodeId: payee.nodeId, bus, checkSignature, stopwatch, clock, tickets, seldom: createPeerBudgets(SELDOM_ITEM_LIMITS, stopwatch), settled: createSettledReceipts() };
  const receiptFor = (taskId: string, served: boolean, atMs = 1, by = payer) =>
    makeReceipt(
      {
        payeePublicKey: payee.publicKey,
        amount: 40n,
        taskId,
        taskHash: sha256(`in ${taskId}`),
        resultHash: sha256(`out ${taskId}`),
        atMs,
        serveTicket: served ? tickets.mint(by.nodeId, taskId, 40n) : new Uint8Array(32),
      },
      by,
    );
  const call = <Req>(request: Req, as = payer.nodeId, network = '127.0.0.0/8'): PeerCall<Req> =>
    ({ peerId: as, network, request, signal: new AbortController().signal }) as PeerCall<Req>;
  return {
    payer,
    asked,
    verified: () => verified,
    advance: (ms: number) => void (now += ms),
    /** What the payer owes here, kept as gateway-svc keeps it. */
    owing: () => {
      const unpaid = createUnpaidServes(DEFAULT_UNPAID_SERVE_LIMITS, stopwatch);
      Object.assign(deps, { unpaid });
      return unpaid;
    },
    /** The gateway restarts: its memories start empty; the ledger keeps what it took. */
    restart: () => Object.assign(deps, { seldom: createPeerBudgets(SELDOM_ITEM_LIMITS, stopwatch), settled: createSettledReceipts() }),
    failOnce: (receiptId: string) => void unavailableOnce.add(receiptId),
    /** The ledger answers this receipt's void by appending the receipt. */
    appendOnVoid: (r: SignedReceipt) => void appendOnVoid.set(Receipt.decode(r.receipt).receiptId, r),
    receiptFor,
    voidOf: (r: SignedReceipt, by = payer) => makeVoid(r, by),
    deliver: (receipts: SignedReceipt[]) => createPeerDeliverReceiptsHandler(deps)(call({ receipts })),
    voidAll: (voids: SignedVoid[], network?: string, as = payer) => createPeerVoidReceiptsHandler(deps)(call({ voids }, as.nodeId, network)),
  };
}

describe('gateway-svc - the payee side of receipts and voids, under a flood', () => {
  it('works through an item repeated in one call once, and gives the copies its answer', async () => {
    const side = payeeSide();
    const one = side.voidOf(side.receiptFor('task-unserved', false));
    const { outcomes } = await side.voidAll(Array.from({ length: RECEIPTS_PER_DELIVERY }, () => one));
    expect(outcomes[0]).toMatchObject({ signedVoid: expect.anything(), error: undefined });
    expect(outcomes.every((o) => o === outcomes[0])).toBe(true);
    // One void of a receipt with a valid receipt signature inside: 2 signatures, once.
    expect([side.asked, side.verified()]).toEqual([['void'], 2]);
    const receipt = side.receiptFor('task-served', true);
    const delivered = await side.deliver([receipt, receipt, receipt]);
    expect(delivered.outcomes.map((o) => [o.receipt !== undefined, o.error])).toEqual([
      [true, undefined],
      [true, undefined],
      [true, undefined],
    ]);
    expect(side.asked).toEqual(['void', 'receipt']);
    // Items without a whole payer signature are no copies of each other: each is checked, and refused, alone.
    const unsigned = { ...receipt, payerSignature: new Uint8Array(0) };
    const refused = await side.deliver([unsigned, unsigned]);
    expect(refused.outcomes.map((o) => o.error?.code)).toEqual([ErrorCode.ERROR_CODE_INVALID_RECEIPT, ErrorCode.ERROR_CODE_INVALID_RECEIPT]);
  });

  it('refuses a receipt for a task it did not serve before checking any signature', async () => {
    const side = payeeSide();
    const { outcomes } = await side.deliver(Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.receiptFor(`task-${i}`, false)));
    expect(outcomes.every((o) => o.error?.code === ErrorCode.ERROR_CODE_INVALID_RECEIPT && /served you no such task/.test(o.error.message))).toBe(true);
    expect([side.asked, side.verified()]).toEqual([[], 0]);
  });

  it('takes the voids of receipts it never took at SELDOM_ITEM_LIMITS a caller, the rest OVERLOADED with when to retry, and served ones whatever the budget', async () => {
    const side = payeeSide();
    const { burst, perSecond } = SELDOM_ITEM_LIMITS.perPeer;
    const flood = (call: number) => Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.voidOf(side.receiptFor(`flood-${call}-${i}`, false)));
    const first = await side.voidAll(flood(0));
    const second = await side.voidAll(flood(1));
    const taken = [...first.outcomes, ...second.outcomes].filter((o) => o.signedVoid !== undefined).length;
    expect(taken).toBe(burst);
    expect(second.outcomes.every((o) => o.error?.code === ErrorCode.ERROR_CODE_OVERLOADED && o.error.retryAfterMs > 0)).toBe(true);
    // Credit-svc and the signature checks only for those taken.
    expect([side.asked.length, side.verified()]).toEqual([burst, 2 * burst]);
    // A served one goes through at once; a second later, perSecond more unserved ones.
    const served = await side.voidAll([side.voidOf(side.receiptFor('task-served', true))]);
    expect(served.outcomes[0]).toMatchObject({ signedVoid: expect.anything(), error: undefined });
    side.advance(1_000);
    const later = await side.voidAll(flood(2));
    expect(later.outcomes.filter((o) => o.signedVoid !== undefined).length).toBe(perSecond);
  });

  it('refuses made-up receipts for a task it settled already before any signature check, and takes its exact repeats within the budget', async () => {
    const side = payeeSide();
    const paid = side.receiptFor('task-served', true);
    expect((await side.deliver([paid])).outcomes[0]).toMatchObject({ receipt: expect.anything(), error: undefined });
    const checked = side.verified();
    // One serve ticket fits any receipt for its task: 64 made-up ones (another time each) cost nothing now.
    const madeUp = Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.receiptFor('task-served', true, 2 + i));
    const refusedAll = (outcomes: ReadonlyArray<{ error?: { code: ErrorCode; message: string } }>) =>
      outcomes.every((o) => o.error?.code === ErrorCode.ERROR_CODE_INVALID_ARGUMENT && /settled here already, with other contents/.test(o.error.message));
    expect(refusedAll((await side.deliver(madeUp)).outcomes)).toBe(true);
    expect(refusedAll((await side.voidAll(madeUp.map((r) => side.voidOf(r)))).outcomes)).toBe(true);
    expect([side.asked, side.verified()]).toEqual([['receipt'], checked]);
    // The very receipt again (its answer lost), and its void, are answered as before, from the seldom budget.
    const again = await side.deliver([paid]);
    const voided = await side.voidAll([side.voidOf(paid)]);
    expect([again.outcomes[0].receipt !== undefined, voided.outcomes[0].error]).toEqual([true, undefined]);
    let overloaded = 0;
    for (let call = 0; call < 2 * SELDOM_ITEM_LIMITS.perPeer.burst && overloaded === 0; call++) {
      if ((await side.deliver([paid])).outcomes[0].error?.code === ErrorCode.ERROR_CODE_OVERLOADED) overloaded = call;
    }
    // Two taken above, then the rest of the burst.
    expect(overloaded).toBe(SELDOM_ITEM_LIMITS.perPeer.burst - 2);
  });

  it('holds many identities on one network to that network budget', async () => {
    const side = payeeSide();
    const identities = Array.from({ length: 8 }, () => signer());
    const take = async (network: string) => {
      let taken = 0;
      for (const [k, who] of identities.entries()) {
        const voids = Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.voidOf(side.receiptFor(`net-${k}-${i}`, false, 1, who), who));
        taken += (await side.voidAll(voids, network, who)).outcomes.filter((o) => o.signedVoid !== undefined).length;
      }
      return taken;
    };
    // Eight callers' own budgets would take 8 × 64; their network takes four callers' worth.
    expect(await take('10.0.0.0/24')).toBe(SELDOM_ITEM_LIMITS.perNetwork.burst);
  });

  it('budgets every item for a receipt id its ledger refused, or is asked about now: made-up receipts for a served task cost a full check each only within the budget', async () => {
    const side = payeeSide();
    const paid = side.receiptFor('task-paid', true);
    await side.deliver([paid]);
    // A restart forgets what was settled; the ledger still refuses other bytes under the id.
    side.restart();
    const madeUp = (call: number) => Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.receiptFor('task-paid', true, 2 + call * 100 + i));
    // Four calls at once: every item for the id after the first, even those in flight beside it, is a seldom one.
    const answers = await Promise.all([0, 1, 2, 3].map(async (call) => side.deliver(madeUp(call))));
    const codes = answers.flatMap((a) => a.outcomes.map((o) => o.error?.code));
    expect(side.asked.length).toBe(1 + 1 + SELDOM_ITEM_LIMITS.perPeer.burst);
    expect(codes.filter((c) => c === ErrorCode.ERROR_CODE_OVERLOADED)).toHaveLength(4 * RECEIPTS_PER_DELIVERY - (side.asked.length - 1));
    // Then 4 a second.
    side.advance(1_000);
    await side.deliver(madeUp(4));
    expect(side.asked.length).toBe(2 + SELDOM_ITEM_LIMITS.perPeer.burst + SELDOM_ITEM_LIMITS.perPeer.perSecond);
  });

  it('refuses a receipt dated ahead of its clock as its ledger would, before any check, mark or budget: it passes once its time comes', async () => {
    const side = payeeSide();
    const ahead = side.receiptFor('task-ahead', true, WALL_MS + MAX_RECEIPT_AHEAD_MS + 1_000);
    const madeUp = Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.receiptFor('task-ahead', true, WALL_MS + MAX_RECEIPT_AHEAD_MS + 2_000 + i));
    for (let call = 0; call < 3; call++) {
      const { outcomes } = await side.deliver(call === 0 ? [ahead] : madeUp);
      expect(outcomes.every((o) => o.error?.code === ErrorCode.ERROR_CODE_INVALID_RECEIPT && o.error.retryable && /dated-ahead/.test(o.error.message))).toBe(true);
    }
    expect([side.asked, side.verified()]).toEqual([[], 0]);
    // A second later it is within MAX_RECEIPT_AHEAD_MS: checked in full, taken, no budget spent.
    side.advance(1_000);
    expect((await side.deliver([ahead])).outcomes[0]).toMatchObject({ receipt: expect.anything(), error: undefined });
  });

  it("retries an item its ledger did not answer (UNAVAILABLE) as a first one: free, whatever the caller's budget", async () => {
    const side = payeeSide();
    // The caller's seldom budget spent on voids of receipts this node never took.
    await side.voidAll(Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => side.voidOf(side.receiptFor(`spent-${i}`, false))));
    const receipt = side.receiptFor('task-retried', true);
    side.failOnce(Receipt.decode(receipt.receipt).receiptId);
    expect((await side.deliver([receipt])).outcomes[0].error?.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    expect((await side.deliver([receipt])).outcomes[0]).toMatchObject({ receipt: expect.anything(), error: undefined });
  });

  it('remembers a void it countersigned for a served receipt: other receipts for that id are refused before any signature check', async () => {
    const side = payeeSide();
    const voided = side.receiptFor('task-voided', true);
    expect((await side.voidAll([side.voidOf(voided)])).outcomes[0]).toMatchObject({ signedVoid: expect.anything(), error: undefined });
    const checked = side.verified();
    const { outcomes } = await side.deliver([side.receiptFor('task-voided', true, 99)]);
    expect(outcomes[0].error?.message).toMatch(/settled here already, with other contents/);
    expect(side.verified()).toBe(checked);
  });

  it('takes a receipt off what its payer owes only when its ledger appended it: the same receipt sent again, after its window and a restart, pays nothing for a new run of its task', async () => {
    const side = payeeSide();
    const unpaid = side.owing();
    expect(unpaid.admit(side.payer.nodeId, 'task-rerun', 40n)).toBeUndefined();
    const paid = side.receiptFor('task-rerun', true);
    expect((await side.deliver([paid])).outcomes[0]).toMatchObject({ receipt: expect.anything(), error: undefined });
    expect(unpaid.owed(side.payer.nodeId)).toBe(0n);
    // Past the window and a gateway restart, nothing here remembers the receipt; the ledger does.
    side.advance(DEFAULT_UNPAID_SERVE_LIMITS.windowMs + 1);
    side.restart();
    expect(unpaid.admit(side.payer.nodeId, 'task-rerun', 40n)).toBeUndefined();
    expect((await side.deliver([paid])).outcomes[0]).toMatchObject({ receipt: expect.anything(), error: undefined });
    expect(unpaid.owed(side.payer.nodeId)).toBe(40n);
  });

  it('takes a served receipt off what its payer owes when its ledger appends it in answer to its void', async () => {
    const side = payeeSide();
    const unpaid = side.owing();
    expect(unpaid.admit(side.payer.nodeId, 'task-voided', 40n)).toBeUndefined();
    const receipt = side.receiptFor('task-voided', true);
    side.appendOnVoid(receipt);
    expect((await side.voidAll([side.voidOf(receipt)])).outcomes[0]).toMatchObject({ receipt: expect.anything(), error: undefined });
    expect(unpaid.owed(side.payer.nodeId)).toBe(0n);
  });
});
