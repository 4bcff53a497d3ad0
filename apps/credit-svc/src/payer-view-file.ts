/**
 * The payers' chains this node audited (payer-views.ts), kept across restarts in
 * `<data-dir>/credit-ledger/payer-views` (beside the ledger, whose LevelDB ignores it): without it a restart read every payer's chain from genesis again
 * (a 40,000-block chain is 6-16 s of audit, and its payer waited up to a minute). Written every
 * PAYER_VIEWS_SAVE_MS while chains were read and once more at stop; read back at start. A view is
 * what its audited blocks determine, so one kept a while ago is as good as a fresh one, only
 * shorter: the chain is read on from its head, never trusted past it.
 *
 * The file is this service's own: a SHA-256 of the body, then the body (node:v8's serialisation of
 * the heads, receipt id hashes and pledges, with the chain rules and the audit's version they were
 * audited under). A write is a new temporary file, synced, then renamed over the old one, so a
 * crash leaves the last whole file (and temporary files a start removes). One that is torn, of
 * another version, node, chain rules or audit, too big, or no plain file, is set aside (logged) and
 * every chain is read from genesis, as before; each view is checked field by field (against its
 * head: its key's hash, its pledged balance, no more ids than blocks), and one that does not hold is
 * dropped alone (its head's block must be the one its hash names). Only this service writes its ledger's folder; a checksum cannot stop whoever else
 * could (they could rewrite the ledger too).
 */
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type { ChainHead, ChainRules, Pledge } from '@swarm/chain';
import { CHAIN_AUDIT_VERSION, encodeForkProof, hex, NODE_ID, sha256, verifyForkProof } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { ForkProof as ForkProofCodec } from '@swarm/contracts';
import type { Scheduler } from '@swarm/determinism';
import type { KeptFile } from '@swarm/runtime';
import { readKeptFile, removeTemporaries, setFileAside, startKeptFile } from '@swarm/runtime';
import type { Logger } from '@swarm/telemetry';
import type { Anchor, KeptView, PayerViews } from './payer-views';
import { CHECKPOINT_BLOCKS, isBlockOf, isBlockWithHash, MAX_ANCHORS, MAX_CHAIN_WEIGHT, MAX_CONVICTED, MAX_REMEMBERED_IDS, MAX_VIEWS, PLEDGE_WEIGHT } from './payer-views';
import { ReceiptIdSet } from './receipt-id-set';

export const PAYER_VIEWS_FILE = 'payer-views';
export const PAYER_VIEWS_SAVE_MS = 60_000;
/** MAX_REMEMBERED_IDS ids at 8 bytes, their pledges, 1,024 heads: room to spare, and a bound on the bytes read (decode bounds the views it builds). */
export const MAX_PAYER_VIEWS_FILE_BYTES = 256 * 1024 * 1024;
const VERSION = 2;
const DIGEST_BYTES = 32;

interface FileBody {
  readonly version: number;
  readonly nodeId: string;
  /** What the views were audited under: another audit, or other rules, would audit them otherwise. */
  readonly auditVersion: number;
  readonly rules: ChainRules;
  readonly views: readonly KeptRecord[];
  /** Payers convicted of a fork, each with its encoded ForkProof. */
  readonly convicted: ReadonlyArray<readonly [string, Uint8Array]>;
  /** Heads of forgotten views: payer, seq, the SignedBlock there. */
  readonly anchors: ReadonlyArray<readonly [string, bigint, Uint8Array]>;
}

/** What the file gives back: the views, the payers convicted of a fork, the anchors of forgotten views. */
export interface KeptPayers {
  readonly views: KeptView[];
  readonly convicted: Array<[string, ForkProof]>;
  readonly anchors: Array<[string, Anchor]>;
  /** Read without tidying: why the file could not be used (tidyPayerViews sets it aside). */
  readonly unusable?: string;
}

interface KeptRecord {
  readonly payer: string;
  readonly head: ChainHead;
  readonly headBlock: Uint8Array;
  /** ReceiptIdSet.hashes() */
  readonly ids: Uint32Array;
  readonly pledges: ReadonlyArray<readonly [string, Pledge]>;
  /** Seq and hash of each checkpoint (payer-views CHECKPOINT_BLOCKS); absent in files from before sightings. */
  readonly checkpoints?: ReadonlyArray<readonly [bigint, Uint8Array]>;
}

/** The file's bytes for `views` and the payers `convicted`, kept by node `nodeId`, audited under `rules`. */
export function encodePayerViews(
  nodeId: string,
  rules: ChainRules,
  views: readonly KeptView[],
  convicted: ReadonlyArray<readonly [string, ForkProof]> = [],
  anchors: ReadonlyArray<readonly [string, Anchor]> = [],
): Uint8Array {
  const body = serialize({
    version: VERSION,
    nodeId,
    auditVersion: CHAIN_AUDIT_VERSION,
    rules: { ...rules },
    views: views.map((v) => ({ payer: v.payer, head: v.head, headBlock: v.headBlock, ids: v.ids.hashes(), pledges: [...v.pledges], checkpoints: [...v.checkpoints] })),
    convicted: convicted.map(([payer, proof]) => [payer, encodeForkProof(proof)] as const),
    anchors: anchors.map(([payer, a]) => [payer, a.seq, a.block] as const),
  } satisfies FileBody);
  return Buffer.concat([createHash('sha256').update(body).digest(), body]);
}

/**
 * The views in `bytes` that hold, least recently used first, within MAX_VIEWS, MAX_CHAIN_WEIGHT
 * and MAX_REMEMBERED_IDS (the most recently used kept, as the views would), checked before any is
 * built; and how many were not taken. Throws (with why) when the file as a whole is not one
 * `nodeId` kept under `rules` and this audit.
 */
export function decodePayerViews(nodeId: string, rules: ChainRules, bytes: Uint8Array): KeptPayers & { dropped: number; stale?: string } {
  const body = bytes.subarray(DIGEST_BYTES);
  if (bytes.length <= DIGEST_BYTES || !Buffer.from(bytes.subarray(0, DIGEST_BYTES)).equals(createHash('sha256').update(body).digest())) {
    throw new Error('its checksum does not match (a torn or damaged file)');
  }
  let file: Partial<FileBody>;
  try {
    file = deserialize(body) as Partial<FileBody>;
  } catch {
    throw new Error('its body does not deserialise');
  }
  if (typeof file !== 'object' || file === null || file.version !== VERSION || !Array.isArray(file.views)) throw new Error(`not a version ${VERSION} payer views file`);
  if (file.nodeId !== nodeId) throw new Error('it was kept by another node (a data dir copied from elsewhere)');
  // A fork proof holds whatever the rules: convictions outlive views audited under other ones.
  const convicted = convictionsIn(file.convicted);
  const anchors = anchorsIn(file.anchors);
  const stale =
    file.auditVersion !== CHAIN_AUDIT_VERSION
      ? `its chains were audited by another version of the audit (${String(file.auditVersion)}, this one ${CHAIN_AUDIT_VERSION})`
      : !sameRules(file.rules, rules)
        ? 'its chains were audited under other chain rules (SWARM_CHAIN_*)'
        : undefined;
  // The most recently used last: taken from the end, each payer once, until a limit is met. A view
  // not taken (stale, past the limits) still binds its payer: its head becomes an anchor.
  const records: KeptRecord[] = [];
  const seen = new Set<string>();
  const anchored = new Map<string, Anchor>(anchors);
  let weight = 0;
  // At most what the views and anchors can take is looked at (a file may name one view many times).
  const last = Math.max(0, file.views.length - MAX_VIEWS - MAX_ANCHORS);
  for (let i = file.views.length - 1; i >= last; i -= 1) {
    const v: unknown = file.views[i];
    const payer = typeof v === 'object' && v !== null ? (v as { payer?: unknown }).payer : undefined;
    if (typeof payer !== 'string' || seen.has(payer) || !holds(v)) continue;
    seen.add(v.payer);
    const w = v.ids.length / 2 + PLEDGE_WEIGHT * v.pledges.length;
    if (stale !== undefined || records.length >= MAX_VIEWS || w > MAX_CHAIN_WEIGHT || weight + w > MAX_REMEMBERED_IDS) {
      if ((anchored.get(v.payer)?.seq ?? 0n) < v.head.seq) anchored.set(v.payer, { seq: v.head.seq, block: v.headBlock });
      continue;
    }
    weight += w;
    records.push(v);
  }
  const views = records.reverse().map((v) => ({
    payer: v.payer,
    head: v.head,
    headBlock: v.headBlock,
    ids: ReceiptIdSet.fromHashes(v.ids),
    pledges: new Map(v.pledges),
    checkpoints: new Map(v.checkpoints ?? []),
  }));
  const kept = { views, convicted, anchors: [...anchored].slice(-MAX_ANCHORS), dropped: file.views.length - views.length };
  return stale === undefined ? kept : { ...kept, stale };
}

/** The anchors whose block is a block of their payer at their seq (the file's own: not checked for a signature), at most MAX_ANCHORS (the last). */
function anchorsIn(kept: unknown): Array<[string, Anchor]> {
  if (!Array.isArray(kept)) return [];
  const out: Array<[string, Anchor]> = [];
  for (const entry of kept.slice(-MAX_ANCHORS) as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) continue;
    const [payer, seq, block] = entry as [unknown, unknown, unknown];
    if (typeof payer !== 'string' || !NODE_ID.test(payer) || !isBigint(seq) || tagOf(block) !== '[object Uint8Array]') continue;
    const anchor = { seq, block: block as Uint8Array };
    if (isBlockOf(anchor, payer)) out.push([payer, anchor]);
  }
  return out;
}

/** The convictions whose proofs verify and name their payer, at most MAX_CONVICTED (the last). */
function convictionsIn(kept: unknown): Array<[string, ForkProof]> {
  if (!Array.isArray(kept)) return [];
  const out: Array<[string, ForkProof]> = [];
  for (const entry of kept.slice(-MAX_CONVICTED) as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || tagOf(entry[1]) !== '[object Uint8Array]') continue;
    const [payer, bytes] = entry as [string, Uint8Array];
    try {
      if (verifyForkProof(bytes).nodeId === payer) out.push([payer, ForkProofCodec.decode(bytes)]);
    } catch {
      // Not a proof against that payer: not kept.
    }
  }
  return out;
}

function sameRules(kept: unknown, rules: ChainRules): boolean {
  if (typeof kept !== 'object' || kept === null) return false;
  const k = kept as Record<string, unknown>;
  const keys = Object.keys(rules) as Array<keyof ChainRules>;
  return Object.keys(k).length === keys.length && keys.every((key) => k[key] === rules[key]);
}

/**
 * Reads the kept views (none when there is no file). With `tidy` (the default), first removes the
 * temporary files of writes a crash cut short, and sets a file that cannot be used aside (logged);
 * without, changes nothing and says why in `unusable`, for tidyPayerViews once the folder is this
 * process's. Opened without following a link, and read only when it is a plain file (a FIFO would
 * hang the start).
 */
export async function loadPayerViews(path: string, nodeId: string, rules: ChainRules, log: Logger, options: { readonly tidy?: boolean } = {}): Promise<KeptPayers> {
  const tidy = options.tidy ?? true;
  if (tidy) await removeTemporaries(path, log);
  const unusable = async (why: string): Promise<KeptPayers> => {
    if (!tidy) return { ...NOTHING_KEPT(), unusable: why };
    await setFileAside(path, why, log, SET_ASIDE);
    return NOTHING_KEPT();
  };
  const read = await readKeptFile(path, MAX_PAYER_VIEWS_FILE_BYTES);
  if ('failed' in read) log.warn({ err: read.failed, path }, "the kept payers' chains could not be read; each is read from genesis again");
  if ('unusable' in read) return await unusable(read.unusable);
  if (!('bytes' in read)) return NOTHING_KEPT();
  try {
    const { views, convicted, anchors, dropped, stale } = decodePayerViews(nodeId, rules, read.bytes);
    if (stale !== undefined)
      log.warn({ path, why: stale, convicted: convicted.length }, "the kept payers' chains are read from genesis again; the payers convicted of a fork stay so");
    else if (dropped > 0) log.warn({ path, dropped }, "some kept payers' chains did not hold and are read from genesis again");
    return { views, convicted, anchors };
  } catch (err) {
    return await unusable((err as Error).message);
  }
}

/** What `loadPayerViews(…, { tidy: false })` left to do, once the ledger's folder is this process's: the temporary files of writes a crash cut short removed, a file that could not be used set aside. */
export async function tidyPayerViews(path: string, kept: KeptPayers, log: Logger): Promise<void> {
  await removeTemporaries(path, log);
  if (kept.unusable !== undefined) await setFileAside(path, kept.unusable, log, SET_ASIDE);
}

const SET_ASIDE = "the kept payers' chains could not be used; the file was set aside and each chain is read from genesis again";

const NOTHING_KEPT = (): KeptPayers => ({ views: [], convicted: [], anchors: [] });

/** Writes the views now (a conviction: not left to the next timed write), or at stop. */
export type PayerViewSaver = KeptFile;

/** Keeps `views` in `path` every `intervalMs` while chains were read (blocks audited, chains refused, payers convicted). */
export function startPayerViewSaver(deps: {
  readonly views: Pick<PayerViews, 'kept' | 'convictions' | 'anchors' | 'stats'>;
  readonly path: string;
  readonly nodeId: string;
  readonly rules: ChainRules;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly log: Logger;
  readonly intervalMs?: number;
}): PayerViewSaver {
  return startKeptFile({
    path: deps.path,
    version: () => {
      const s = deps.views.stats();
      return s.blocksRead + s.badChains + s.forks;
    },
    encode: () => encodePayerViews(deps.nodeId, deps.rules, deps.views.kept(), deps.views.convictions(), deps.views.anchors()),
    scheduler: deps.scheduler,
    intervalMs: deps.intervalMs ?? PAYER_VIEWS_SAVE_MS,
    log: deps.log,
    failed: "could not keep the payers' chains read; will try again",
  });
}

const isBigint = (x: unknown): x is bigint => typeof x === 'bigint';
// By tag, not instanceof: what node:v8 deserialises is of this realm's classes, which a test's vm context does not share.
const tagOf = (x: unknown) => Object.prototype.toString.call(x);
const isBytes = (x: unknown, length: number): x is Uint8Array => tagOf(x) === '[object Uint8Array]' && (x as Uint8Array).length === length;
const isUint32Array = (x: unknown): x is Uint32Array => tagOf(x) === '[object Uint32Array]';
const BALANCES = ['available', 'locked', 'burned', 'received', 'paid', 'pledged'] as const;
const RECEIPT_ID_KEY = /^[0-9a-f]{16}$/;
const DIGEST = /^[0-9a-f]{64}$/;

/** Whether `v` is a view as kept, consistent with its own head (a check of the file, not of the chain: that was audited). */
function holds(v: unknown): v is KeptRecord {
  if (typeof v !== 'object' || v === null) return false;
  const { payer, head, headBlock, ids, pledges } = v as Partial<KeptRecord>;
  if (typeof payer !== 'string' || !NODE_ID.test(payer) || !isUint32Array(ids) || !Array.isArray(pledges)) return false;
  if (tagOf(headBlock) !== '[object Uint8Array]') return false;
  if (typeof head !== 'object' || head === null) return false;
  const h = head as Partial<ChainHead>;
  const balances = h.balances as Partial<Record<(typeof BALANCES)[number], unknown>> | undefined;
  const headHolds =
    h.nodeId === payer &&
    isBytes(h.publicKey, 32) &&
    hex(sha256(h.publicKey)) === payer &&
    isBigint(h.seq) &&
    h.seq >= 1n &&
    isBytes(h.hash, 32) &&
    isBlockWithHash(headBlock as Uint8Array, h.hash) &&
    isBigint(h.atMs) &&
    isBigint(h.genesisAtMs) &&
    (h.lastReceiptInAtMs === undefined || isBigint(h.lastReceiptInAtMs)) &&
    typeof balances === 'object' &&
    balances !== null &&
    BALANCES.every((k) => isBigint(balances[k]) && balances[k] >= 0n);
  if (!headHolds) return false;
  // Each receipt id and each pledge came with a block of its own.
  if (ids.length % 2 !== 0 || BigInt(ids.length / 2) > h.seq || BigInt(pledges.length) > h.seq) return false;
  let pledged = 0n;
  for (const p of pledges as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !RECEIPT_ID_KEY.test(p[0])) return false;
    const pledge = p[1] as Partial<Pledge> | null;
    if (typeof pledge !== 'object' || pledge === null || typeof pledge.digest !== 'string' || !DIGEST.test(pledge.digest)) return false;
    if (!isBigint(pledge.amount) || pledge.amount <= 0n || typeof pledge.released !== 'boolean') return false;
    if (!pledge.released) pledged += pledge.amount;
  }
  // What the head says is pledged is what its open pledges add up to.
  return pledged === balances.pledged && checkpointsHold((v as Partial<KeptRecord>).checkpoints, h.seq);
}

/** Checkpoints at distinct multiples of CHECKPOINT_BLOCKS up to the head, each a hash; none at all in an older file. */
function checkpointsHold(checkpoints: unknown, headSeq: bigint): boolean {
  if (checkpoints === undefined) return true;
  if (!Array.isArray(checkpoints) || BigInt(checkpoints.length) > headSeq / CHECKPOINT_BLOCKS) return false;
  const seen = new Set<bigint>();
  for (const c of checkpoints as unknown[]) {
    if (!Array.isArray(c) || c.length !== 2 || !isBigint(c[0]) || !isBytes(c[1], 32)) return false;
    const seq = c[0];
    if (seq <= 0n || seq > headSeq || seq % CHECKPOINT_BLOCKS !== 0n || seen.has(seq)) return false;
    seen.add(seq);
  }
  return true;
}
