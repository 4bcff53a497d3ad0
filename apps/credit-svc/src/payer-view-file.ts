/**
 * The payers' chains this node audited (payer-views.ts), kept across restarts in
 * `<data-dir>/credit-ledger/payer-views` (beside the ledger, whose LevelDB ignores it): without it a restart read every payer's chain from genesis again
 * (a 40,000-block chain is 6-16 s of audit, and its payer waited up to a minute). Written every
 * PAYER_VIEWS_SAVE_MS while chains were read and once more at stop; read back at start. A view is
 * what its audited blocks determine, so one kept a while ago is as good as a fresh one, only
 * shorter: the chain is read on from its head, never trusted past it.
 *
 * The file is this service's own: a SHA-256 of the body, then the body (node:v8's serialisation of
 * the heads, receipt id hashes and pledges). A write is a temporary file renamed over the old one,
 * so a crash leaves the last whole file. One that is torn, of another version or another node, or
 * too big, is set aside (logged) and every chain is read from genesis, as before; each view is
 * checked field by field, and one that does not hold is dropped alone.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { ChainHead, Pledge } from '@swarm/chain';
import { NODE_ID } from '@swarm/chain';
import type { CancelTimer, Scheduler } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import type { KeptView, PayerViews } from './payer-views';
import { ReceiptIdSet } from './receipt-id-set';

export const PAYER_VIEWS_FILE = 'payer-views';
export const PAYER_VIEWS_SAVE_MS = 60_000;
/** MAX_REMEMBERED_IDS ids at 8 bytes, their pledges, 1,024 heads: room to spare, and a bound on what is read. */
export const MAX_PAYER_VIEWS_FILE_BYTES = 256 * 1024 * 1024;
const VERSION = 1;
const DIGEST_BYTES = 32;

interface FileBody {
  readonly version: number;
  readonly nodeId: string;
  readonly views: readonly KeptRecord[];
}

interface KeptRecord {
  readonly payer: string;
  readonly head: ChainHead;
  /** ReceiptIdSet.hashes() */
  readonly ids: Uint32Array;
  readonly pledges: ReadonlyArray<readonly [string, Pledge]>;
}

/** The file's bytes for `views`, kept by node `nodeId`. */
export function encodePayerViews(nodeId: string, views: readonly KeptView[]): Uint8Array {
  const body = serialize({
    version: VERSION,
    nodeId,
    views: views.map((v) => ({ payer: v.payer, head: v.head, ids: v.ids.hashes(), pledges: [...v.pledges] })),
  } satisfies FileBody);
  return Buffer.concat([createHash('sha256').update(body).digest(), body]);
}

/** The views in `bytes` that hold, and how many did not; throws (with why) when the file as a whole is not one of `nodeId`'s. */
export function decodePayerViews(nodeId: string, bytes: Uint8Array): { views: KeptView[]; dropped: number } {
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
  const views: KeptView[] = [];
  for (const v of file.views as unknown[]) {
    if (!holds(v)) continue;
    views.push({ payer: v.payer, head: v.head, ids: ReceiptIdSet.fromHashes(v.ids), pledges: new Map(v.pledges) });
  }
  return { views, dropped: file.views.length - views.length };
}

/** Reads the kept views (none when there is no file); a file that cannot be used is set aside and logged. */
export async function loadPayerViews(path: string, nodeId: string, log: Logger): Promise<KeptView[]> {
  let bytes: Uint8Array;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_PAYER_VIEWS_FILE_BYTES) return await setAside(path, `${size} bytes, over the ${MAX_PAYER_VIEWS_FILE_BYTES} it may have`, log);
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, path }, "the kept payers' chains could not be read; each is read from genesis again");
    return [];
  }
  try {
    const { views, dropped } = decodePayerViews(nodeId, bytes);
    if (dropped > 0) log.warn({ path, dropped }, "some kept payers' chains did not hold and are read from genesis again");
    return views;
  } catch (err) {
    return await setAside(path, (err as Error).message, log);
  }
}

async function setAside(path: string, why: string, log: Logger): Promise<KeptView[]> {
  const aside = `${path}.unreadable`;
  await rename(path, aside).catch((err: unknown) => log.warn({ err, path }, "could not set the unreadable payers' chains file aside"));
  log.warn({ path, aside, why }, "the kept payers' chains could not be used; the file was set aside and each chain is read from genesis again");
  return [];
}

export interface PayerViewSaver {
  /** Writes the views now when chains were read since the last write; no more timed writes after. */
  stop(): Promise<void>;
}

/** Keeps `views` in `path` every `intervalMs` while chains were read (blocks audited, or views taken back). */
export function startPayerViewSaver(deps: {
  readonly views: Pick<PayerViews, 'kept' | 'stats'>;
  readonly path: string;
  readonly nodeId: string;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly log: Logger;
  readonly intervalMs?: number;
}): PayerViewSaver {
  const intervalMs = deps.intervalMs ?? PAYER_VIEWS_SAVE_MS;
  const progress = () => {
    const s = deps.views.stats();
    return s.blocksRead + s.badChains;
  };
  // What the file holds already: what was restored from it.
  let saved = progress();
  let stopped = false;
  let timer: CancelTimer | undefined;
  let writing: Promise<void> = Promise.resolve();
  let writes = 0;

  const save = (): Promise<void> => {
    const now = progress();
    if (now === saved) return writing;
    saved = now;
    // Encoded at once: the views change as reads go on.
    const bytes = encodePayerViews(deps.nodeId, deps.views.kept());
    const tmp = `${deps.path}.${process.pid}.${++writes}.tmp`;
    writing = writing
      .then(async () => {
        await mkdir(dirname(deps.path), { recursive: true });
        await writeFile(tmp, bytes, { mode: 0o600 });
        await rename(tmp, deps.path);
      })
      .catch(async (err: unknown) => {
        // Tried again at the next save: a lost save costs only reading on from an older head.
        saved = -1;
        await rm(tmp, { force: true }).catch(() => undefined);
        deps.log.warn({ err, path: deps.path }, "could not keep the payers' chains read; will try again");
      });
    return writing;
  };
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    void save().then(() => {
      if (!stopped) timer = deps.scheduler.setTimer(intervalMs, tick);
    });
  };
  timer = deps.scheduler.setTimer(intervalMs, tick);
  return {
    async stop() {
      stopped = true;
      timer?.();
      timer = undefined;
      await writing;
      await save();
    },
  };
}

const isBigint = (x: unknown): x is bigint => typeof x === 'bigint';
// By tag, not instanceof: what node:v8 deserialises is of this realm's classes, which a test's vm context does not share.
const tagOf = (x: unknown) => Object.prototype.toString.call(x);
const isBytes = (x: unknown, length: number): x is Uint8Array => tagOf(x) === '[object Uint8Array]' && (x as Uint8Array).length === length;
const BALANCES = ['available', 'locked', 'burned', 'received', 'paid', 'pledged'] as const;
const RECEIPT_ID_KEY = /^[0-9a-f]{16}$/;
const DIGEST = /^[0-9a-f]{64}$/;

function holds(v: unknown): v is KeptRecord {
  if (typeof v !== 'object' || v === null) return false;
  const { payer, head, ids, pledges } = v as Partial<KeptRecord>;
  if (typeof payer !== 'string' || !NODE_ID.test(payer) || tagOf(ids) !== '[object Uint32Array]' || !Array.isArray(pledges)) return false;
  if (typeof head !== 'object' || head === null) return false;
  const h = head as Partial<ChainHead>;
  const balances = h.balances as Partial<Record<(typeof BALANCES)[number], unknown>> | undefined;
  return (
    h.nodeId === payer &&
    isBytes(h.publicKey, 32) &&
    isBigint(h.seq) &&
    h.seq >= 1n &&
    isBytes(h.hash, 32) &&
    isBigint(h.atMs) &&
    isBigint(h.genesisAtMs) &&
    (h.lastReceiptInAtMs === undefined || isBigint(h.lastReceiptInAtMs)) &&
    typeof balances === 'object' &&
    balances !== null &&
    BALANCES.every((k) => isBigint(balances[k]) && balances[k] >= 0n) &&
    (pledges as unknown[]).every((p) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !RECEIPT_ID_KEY.test(p[0])) return false;
      const pledge = p[1] as Partial<Pledge> | null;
      return (
        typeof pledge === 'object' &&
        pledge !== null &&
        typeof pledge.digest === 'string' &&
        DIGEST.test(pledge.digest) &&
        isBigint(pledge.amount) &&
        typeof pledge.released === 'boolean'
      );
    })
  );
}
