/**
 * The sightings this node published (docs/chain.md "Sightings"), kept on disk before each one goes
 * out, so that after a crash the first sighting of a payer goes no lower than the last one
 * published, whatever the DHT answers (nodes next to a payer's key may stall the find of it:
 * helper-155) and however old the views file (written once a minute) is.
 *
 * `<ledger>/published-sightings`: a header (MAGIC, the wall time the journal was started, whether it
 * was started on a new ledger, the first 8 bytes of their SHA-256), then records appended (every
 * byte) and synced, several at one sync when they come together, each
 * `[u32 length][first 8 bytes of the SHA-256 of the length and body][body]`, the body
 * `[u8 payer length][payer][u64 seq][f64 wall ms][the payer's SignedBlock]`: the block of the
 * highest seq this node published for that payer, and when it last signed it. It is rewritten whole
 * (a record a payer) at open and once it holds COMPACT_RATIO times as many records as payers (and
 * COMPACT_MIN_RECORDS). A last record that runs past the end, by less than a record can be, is a
 * torn append (a crash in it, whose publish never went out) and is dropped. A journal started over
 * a ledger that was not new (an older node's state, a lost journal), or found damaged (a bad header,
 * a bad record before the end), is *incomplete* for its first MAX_SIGHTING_TTL_MS: a sighting
 * published before it may still be live, so the publisher finds its own in the DHT first, as before.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MAX_SIGHTING_TTL_MS, MAX_SIGNED_BLOCK_BYTES, sameBytes } from '@swarm/chain';
import type { WallClock } from '@swarm/determinism';
import { replaceFile } from '@swarm/identity';
import { readKeptFile, removeTemporaries, setFileAside } from '@swarm/runtime';
import { MAX_ANCHORS, MAX_CONVICTED, MAX_VIEWS } from './payer-views';
import type { Logger } from '@swarm/telemetry';

export const PUBLISHED_SIGHTINGS_FILE = 'published-sightings';
/** Rewritten whole once it holds this many times as many records as payers (and at least COMPACT_MIN_RECORDS). */
const COMPACT_RATIO = 2;
export const COMPACT_MIN_RECORDS = 4_096;
/** A record's SignedBlock at most: a chain's blocks are capped at this (most are 300-600 bytes). */
export const MAX_RECORD_BLOCK_BYTES = MAX_SIGNED_BLOCK_BYTES;
const DIGEST_BYTES = 8;
/** A whole record at most: length, digest, payer (255 bytes at most), seq, time and block. */
const MAX_RECORD_BYTES = 4 + DIGEST_BYTES + 1 + 255 + 16 + MAX_RECORD_BLOCK_BYTES;
/**
 * The file read at most: a record of the largest block (a payer picks its blocks' size) for each
 * payer a node keeps (MAX_VIEWS + MAX_ANCHORS + MAX_CONVICTED), twice over (a rewrite comes at twice
 * the records there are payers), about 600 MB; most blocks are 300-600 bytes, and a node's journal a
 * few MB. A larger one (payers no longer kept, their sightings live, on top) is set aside, and the
 * journal starts incomplete: the find first, as with none (helper-163).
 */
export const MAX_JOURNAL_BYTES = 2 * (MAX_VIEWS + MAX_ANCHORS + MAX_CONVICTED) * MAX_RECORD_BYTES;
const MAGIC = new TextEncoder().encode('swarm-published-sightings-v2\n');
const HEADER_BYTES = MAGIC.length + 8 + 1 + DIGEST_BYTES;
/** A start time before this is a wall clock that was wrong (a box booted at 1970): the 6 hours could not be counted from it. */
const EARLIEST_START_MS = Date.UTC(2025, 0, 1);

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
  /**
   * Kept on disk, synced, before its sighting goes out; a seq lower than the payer's kept one changes
   * nothing. The kept seq signed again is written again: a rewrite keeps a record while its last
   * sighting may live (helper-160: one signed again hourly was dropped 6 h after the first).
   */
  record(payer: string, seq: bigint, block: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface PublishedJournalDeps {
  readonly path: string;
  readonly clock: WallClock;
  readonly log: Logger;
  /** The ledger folder held nothing before this start (a new node): nothing it published can be live, journal or not. */
  readonly newLedger: boolean;
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

function digestOf(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest().subarray(0, DIGEST_BYTES);
}

function encodeRecord(payer: string, published: PublishedBlock): Uint8Array {
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
  record.set(digestOf(record.subarray(0, 4), body), 4);
  record.set(body, 4 + DIGEST_BYTES);
  return record;
}

function encodeHeader(startedAtMs: number, startedComplete: boolean): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC);
  new DataView(header.buffer).setFloat64(MAGIC.length, startedAtMs);
  header[MAGIC.length + 8] = startedComplete ? 1 : 0;
  header.set(digestOf(header.subarray(0, HEADER_BYTES - DIGEST_BYTES)), HEADER_BYTES - DIGEST_BYTES);
  return header;
}

/** The journal's state in `bytes`; `damaged` when a record before the end does not hold (its records from there on are lost). */
function decodeJournal(bytes: Uint8Array): Parsed & { readonly damaged: boolean } {
  if (bytes.length < HEADER_BYTES || !MAGIC.every((b, i) => bytes[i] === b)) throw new Error('no published-sightings header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const startedAtMs = view.getFloat64(MAGIC.length);
  const flag = bytes[MAGIC.length + 8];
  const headerHolds = sameBytes(digestOf(bytes.subarray(0, HEADER_BYTES - DIGEST_BYTES)), bytes.subarray(HEADER_BYTES - DIGEST_BYTES, HEADER_BYTES));
  if (!headerHolds || !(startedAtMs >= EARLIEST_START_MS) || (flag !== 0 && flag !== 1)) throw new Error('a bad published-sightings header');
  const kept = new Map<string, PublishedBlock>();
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const left = bytes.length - at;
    const length = left >= 4 ? view.getUint32(at) : 0;
    const end = at + 4 + DIGEST_BYTES + length;
    // Past the end by less than a record can be: the last append, torn by a crash (its sighting never went out).
    if (left < 4 || (end > bytes.length && left < MAX_RECORD_BYTES && end - at <= MAX_RECORD_BYTES)) break;
    const body = bytes.subarray(at + 4 + DIGEST_BYTES, Math.min(end, bytes.length));
    const idLength = body[0] ?? 0;
    const blockAt = 1 + idLength + 16;
    const fits = end <= bytes.length && body.length > blockAt && body.length - blockAt <= MAX_RECORD_BLOCK_BYTES;
    if (!fits || !sameBytes(digestOf(bytes.subarray(at, at + 4), body), bytes.subarray(at + 4, at + 4 + DIGEST_BYTES))) {
      return { startedAtMs, startedComplete: flag === 1, kept, damaged: true };
    }
    const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const payer = new TextDecoder().decode(body.subarray(1, 1 + idLength));
    const seq = bodyView.getBigUint64(1 + idLength);
    const atMs = bodyView.getFloat64(1 + idLength + 8);
    const last = kept.get(payer);
    if (last === undefined || seq >= last.seq) kept.set(payer, { seq, atMs, block: body.slice(blockAt) });
    at = end;
  }
  return { startedAtMs, startedComplete: flag === 1, kept, damaged: false };
}

async function readJournal(deps: PublishedJournalDeps): Promise<Parsed> {
  const { path, log } = deps;
  const started = (startedComplete: boolean): Parsed => ({ startedAtMs: deps.clock.now(), startedComplete, kept: new Map() });
  const consequence = 'the sightings published before are found in the DHT before any is published again';
  await removeTemporaries(path, log);
  const read = await readKeptFile(path, MAX_JOURNAL_BYTES);
  if ('none' in read) return started(deps.newLedger);
  if ('failed' in read) log.warn({ err: read.failed, path }, `the published sightings could not be read; ${consequence}`);
  if ('unusable' in read) await setFileAside(path, read.unusable, log, consequence);
  if (!('bytes' in read)) return started(false);
  const { bytes } = read;
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

/**
 * Nothing in the ledger's folder yet (or no folder): a new node, which published no sighting before
 * this start. Asked before anything is written there. A folder that cannot be read is not new.
 */
export async function isNewLedger(folder: string): Promise<boolean> {
  return readdir(folder).then(
    (names) => names.length === 0,
    (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
  );
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
    for (const [payer, published] of batched) if ((highest.get(payer)?.seq ?? -1n) <= published.seq) highest.set(payer, published);
    const entries = [...highest];
    if (broken || file === undefined || records + entries.length > Math.max(COMPACT_MIN_RECORDS, COMPACT_RATIO * kept.size)) await rewrite();
    try {
      const bytes = Buffer.concat(entries.map(([payer, published]) => encodeRecord(payer, published)));
      // One write(2) may take part of them and say so, with no error (a disk filling up): every byte, or a failure (helper-160).
      for (let written = 0; written < bytes.length;) {
        const { bytesWritten } = await (file as FileHandle).write(bytes, written, bytes.length - written);
        if (bytesWritten <= 0) throw new Error(`the published sightings took no more bytes (${written} of ${bytes.length})`);
        written += bytesWritten;
      }
      await (file as FileHandle).datasync();
    } catch (err) {
      broken = true;
      throw err;
    }
    records += entries.length;
    for (const [payer, published] of entries) if ((kept.get(payer)?.seq ?? -1n) <= published.seq) kept.set(payer, published);
  };

  tail = rewrite().catch((err: unknown) => log.warn({ err, path }, 'the published sightings could not be rewritten; tried again at the next publish'));
  await tail;

  return {
    kept,
    complete: () => startedComplete || clock.now() >= startedAtMs + MAX_SIGHTING_TTL_MS,
    record(payer, seq, block) {
      if (closed) return Promise.reject(new Error('the published sightings are closed'));
      if ((kept.get(payer)?.seq ?? -1n) > seq) return Promise.resolve();
      if (block.length > MAX_RECORD_BLOCK_BYTES) return Promise.reject(new RangeError(`a block of ${block.length} bytes is over the ${MAX_RECORD_BLOCK_BYTES} a record holds`));
      // Refused alone: one in a batch would fail every record of it.
      if (new TextEncoder().encode(payer).length > 255) return Promise.reject(new RangeError('a payer id is at most 255 bytes'));
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
