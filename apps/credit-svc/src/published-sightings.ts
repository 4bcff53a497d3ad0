/**
 * The sightings this node published (docs/chain.md "Sightings"), kept on disk before each one goes
 * out, so that after a crash the first sighting of a payer goes no lower than the last one
 * published, whatever the DHT answers (nodes next to a payer's key may stall the find of it:
 * helper-155) and however old the views file (written once a minute) is.
 *
 * `<ledger>/published-sightings`: a header (MAGIC, the wall time the journal was started, whether it
 * was started with nothing published before it), then records appended and synced, several at one
 * sync when they come together, each `[u32 length][first 8 bytes of the body's SHA-256][body]`, the
 * body `[u8 payer length][payer][u64 seq][f64 wall ms][the payer's SignedBlock]`: the block of the
 * highest seq this node published for that payer. It is rewritten whole (a record a payer) at open
 * and once it holds COMPACT_RATIO times as many records as payers. A torn last record (a crash in
 * an append, whose publish never went out) is dropped. A journal started over an older node's
 * state, or found damaged (a bad header, a bad record before the end), is *incomplete* for its first
 * MAX_SIGHTING_TTL_MS: a sighting published before it may still be live, so the publisher finds its
 * own in the DHT first, as before.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MAX_SIGHTING_TTL_MS } from '@swarm/chain';
import type { WallClock } from '@swarm/determinism';
import { replaceFile } from '@swarm/identity';
import { setFileAside } from '@swarm/runtime';
import type { Logger } from '@swarm/telemetry';
import { removeTemporaries } from './payer-view-file';

export const PUBLISHED_SIGHTINGS_FILE = 'published-sightings';
/** Rewritten whole once it holds this many times as many records as payers (and at least COMPACT_MIN_RECORDS). */
export const COMPACT_RATIO = 2;
export const COMPACT_MIN_RECORDS = 4_096;
/** A record's SignedBlock at most (a block is 300-600 bytes; a chain's blocks are capped far below this). */
export const MAX_RECORD_BLOCK_BYTES = 64 * 1024;
/** The file read at most: 65,536 payers' records and room to spare. */
export const MAX_JOURNAL_BYTES = 128 * 1024 * 1024;
const MAGIC = new TextEncoder().encode('swarm-published-sightings-v1\n');
const HEADER_BYTES = MAGIC.length + 8 + 1;
const DIGEST_BYTES = 8;

/** The highest block of a payer this node published a sighting of, and when. */
export interface PublishedBlock {
  readonly seq: bigint;
  readonly block: Uint8Array;
  readonly atMs: number;
}

export interface PublishedJournal {
  /** Each payer's highest block published, as the journal holds it now. */
  readonly kept: ReadonlyMap<string, PublishedBlock>;
  /** Every sighting this node published that may still be live is in `kept` (see the file's comment). */
  complete(): boolean;
  /** Kept on disk, synced, before its sighting goes out; a seq no higher than the payer's kept one changes nothing. */
  record(payer: string, seq: bigint, block: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface PublishedJournalDeps {
  readonly path: string;
  readonly clock: WallClock;
  readonly log: Logger;
  /** This node kept no payer before (no views file, or an empty one): nothing it published can be live, journal or not. */
  readonly nothingKeptBefore: boolean;
  /** A payer still kept (a view, an anchor, a conviction): its record outlives its sighting's lifetime at a rewrite. */
  readonly keep: (payer: string) => boolean;
}

interface Batch {
  readonly records: Array<readonly [string, PublishedBlock]>;
  done: Promise<void>;
}

interface Parsed {
  readonly startedAtMs: number;
  readonly startedComplete: boolean;
  readonly kept: Map<string, PublishedBlock>;
}

function digestOf(body: Uint8Array): Uint8Array {
  return createHash('sha256').update(body).digest().subarray(0, DIGEST_BYTES);
}

export function encodeRecord(payer: string, published: PublishedBlock): Uint8Array {
  const id = new TextEncoder().encode(payer);
  if (id.length > 255) throw new RangeError('a payer id is at most 255 bytes');
  const body = new Uint8Array(1 + id.length + 16 + published.block.length);
  const view = new DataView(body.buffer);
  body[0] = id.length;
  body.set(id, 1);
  view.setBigUint64(1 + id.length, published.seq);
  view.setFloat64(1 + id.length + 8, published.atMs);
  body.set(published.block, 1 + id.length + 16);
  const record = new Uint8Array(4 + DIGEST_BYTES + body.length);
  new DataView(record.buffer).setUint32(0, body.length);
  record.set(digestOf(body), 4);
  record.set(body, 4 + DIGEST_BYTES);
  return record;
}

function encodeHeader(startedAtMs: number, startedComplete: boolean): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC);
  new DataView(header.buffer).setFloat64(MAGIC.length, startedAtMs);
  header[HEADER_BYTES - 1] = startedComplete ? 1 : 0;
  return header;
}

/** The journal's state in `bytes`; `damaged` when a record before the end does not hold (its records from there on are lost). */
export function decodeJournal(bytes: Uint8Array): Parsed & { readonly damaged: boolean } {
  if (bytes.length < HEADER_BYTES || !MAGIC.every((b, i) => bytes[i] === b)) throw new Error('no published-sightings header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const startedAtMs = view.getFloat64(MAGIC.length);
  const flag = bytes[HEADER_BYTES - 1];
  if (!Number.isFinite(startedAtMs) || (flag !== 0 && flag !== 1)) throw new Error('a bad published-sightings header');
  const kept = new Map<string, PublishedBlock>();
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const length = at + 4 <= bytes.length ? view.getUint32(at) : Infinity;
    const end = at + 4 + DIGEST_BYTES + length;
    // Past the end: the last append, torn by a crash (its sighting never went out).
    if (end > bytes.length) break;
    const body = bytes.subarray(at + 4 + DIGEST_BYTES, end);
    const idLength = body[0] ?? 0;
    const blockAt = 1 + idLength + 16;
    const fits = body.length > blockAt && body.length - blockAt <= MAX_RECORD_BLOCK_BYTES;
    if (!fits || !digestOf(body).every((b, i) => bytes[at + 4 + i] === b)) return { startedAtMs, startedComplete: flag === 1, kept, damaged: end < bytes.length };
    const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const payer = new TextDecoder().decode(body.subarray(1, 1 + idLength));
    const seq = bodyView.getBigUint64(1 + idLength);
    const atMs = bodyView.getFloat64(1 + idLength + 8);
    const last = kept.get(payer);
    if (last === undefined || seq > last.seq) kept.set(payer, { seq, atMs, block: body.slice(blockAt) });
    at = end;
  }
  return { startedAtMs, startedComplete: flag === 1, kept, damaged: false };
}

async function readJournal(deps: PublishedJournalDeps): Promise<Parsed> {
  const { path, log } = deps;
  const started = (startedComplete: boolean): Parsed => ({ startedAtMs: deps.clock.now(), startedComplete, kept: new Map() });
  const consequence = 'the sightings published before are found in the DHT before any is published again';
  await removeTemporaries(path, log);
  let bytes: Uint8Array;
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const info = await file.stat();
      if (!info.isFile() || info.size > MAX_JOURNAL_BYTES) {
        await setFileAside(path, info.isFile() ? `${info.size} bytes, over the ${MAX_JOURNAL_BYTES} it may have` : 'it is no plain file', log, consequence);
        return started(false);
      }
      bytes = await file.readFile();
    } finally {
      await file.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return started(deps.nothingKeptBefore);
    if (code === 'ELOOP') await setFileAside(path, 'it is a symbolic link', log, consequence);
    else log.warn({ err, path }, `the published sightings could not be read; ${consequence}`);
    return started(false);
  }
  try {
    const parsed = decodeJournal(bytes);
    if (!parsed.damaged) return parsed;
    log.warn({ path, kept: parsed.kept.size }, `a record of the published sightings does not hold; ${consequence}`);
    return { ...started(false), kept: parsed.kept };
  } catch (err) {
    await setFileAside(path, (err as Error).message, log, consequence);
    return started(false);
  }
}

/** Opens (or starts) the journal at `deps.path` and rewrites it whole. */
export async function openPublishedJournal(deps: PublishedJournalDeps): Promise<PublishedJournal> {
  const { path, clock, log } = deps;
  const { startedAtMs, startedComplete, kept } = await readJournal(deps);
  const header = encodeHeader(startedAtMs, startedComplete);
  let file: FileHandle | undefined;
  let records = 0;
  /** An append failed part way: the file is rewritten whole before the next one. */
  let broken = true;
  let tail: Promise<void> = Promise.resolve();
  /** The records to go at the next sync, with that sync. */
  let batch: Batch | undefined;
  let closed = false;

  const rewrite = async () => {
    await file?.close();
    file = undefined;
    const now = clock.now();
    // A record whose sighting has expired and whose payer is no longer kept is of no more use.
    for (const [payer, published] of kept) if (now - published.atMs > MAX_SIGHTING_TTL_MS && !deps.keep(payer)) kept.delete(payer);
    const parts = [header, ...[...kept].map(([payer, published]) => encodeRecord(payer, published))];
    await mkdir(dirname(path), { recursive: true });
    await replaceFile(path, Buffer.concat(parts));
    records = kept.size;
    file = await open(path, 'a');
    broken = false;
  };

  const append = async (batched: ReadonlyArray<readonly [string, PublishedBlock]>) => {
    // Of one payer's records in a batch, its highest alone.
    const highest = new Map<string, PublishedBlock>();
    for (const [payer, published] of batched) if ((highest.get(payer)?.seq ?? -1n) < published.seq) highest.set(payer, published);
    const entries = [...highest];
    if (broken || file === undefined || records + entries.length > Math.max(COMPACT_MIN_RECORDS, COMPACT_RATIO * kept.size)) await rewrite();
    try {
      await (file as FileHandle).write(Buffer.concat(entries.map(([payer, published]) => encodeRecord(payer, published))));
      await (file as FileHandle).datasync();
    } catch (err) {
      broken = true;
      throw err;
    }
    records += entries.length;
    for (const [payer, published] of entries) if ((kept.get(payer)?.seq ?? -1n) < published.seq) kept.set(payer, published);
  };

  tail = rewrite().catch((err: unknown) => log.warn({ err, path }, 'the published sightings could not be rewritten; tried again at the next publish'));
  await tail;

  return {
    kept,
    complete: () => startedComplete || clock.now() >= startedAtMs + MAX_SIGHTING_TTL_MS,
    record(payer, seq, block) {
      if (closed) return Promise.reject(new Error('the published sightings are closed'));
      if ((kept.get(payer)?.seq ?? -1n) >= seq) return Promise.resolve();
      if (block.length > MAX_RECORD_BLOCK_BYTES) return Promise.reject(new RangeError(`a block of ${block.length} bytes is over the ${MAX_RECORD_BLOCK_BYTES} a record holds`));
      if (batch === undefined) {
        const next: Batch = { records: [], done: Promise.resolve() };
        next.done = tail
          .catch(() => undefined)
          .then(() => {
            // From here on, records join the next batch.
            if (batch === next) batch = undefined;
            return append(next.records);
          });
        tail = next.done;
        batch = next;
      }
      batch.records.push([payer, { seq, block, atMs: clock.now() }]);
      return batch.done;
    },
    async close() {
      closed = true;
      await tail.catch(() => undefined);
      await file?.close();
      file = undefined;
    },
  };
}
