/**
 * How the chain book keeps its records in the ledger store's side spaces (ledger-store.ts):
 * `block` by seq (20 digits, so key order is seq order), `receipt` id → the seq of its block,
 * `outbox` id → a payer-signed receipt waiting for its payee's countersignature, `void` id → a
 * void asked or agreed (void-book.ts), and `meta` records: the head (so a start does not replay the
 * chain), the credit reserved for open escrows paying other nodes (and receipts an older build left
 * in the outbox unpledged), the voided counts, and per void this
 * node completed what it took back. Local records only: what travels between nodes is protobuf
 * (chain.proto).
 */
import type { ChainBalances, ChainHead } from '@swarm/chain';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Change } from './ledger-rules';
import type { SideWrite } from './ledger-store';

export const HEAD_KEY = 'head';
/** Credit reserved here for other nodes, not yet pledged in the chain (the stored name predates chain pledges). */
export const RESERVED_KEY = 'pledged';
/** How many of this node's receipts their payees voided, and the credit that came back with them. */
export const VOIDED_COUNT_KEY = 'voided-count';
export const VOIDED_AMOUNT_KEY = 'voided-amount';
/** What the VOID of one receipt took back to the node's account (0 when nothing): a reinstatement returns exactly that. */
export function voidedBackKey(receiptId: string): string {
  return `voided-back:${receiptId}`;
}
const SEQ_DIGITS = 20;

const text = new TextEncoder();
const untext = new TextDecoder('utf-8', { fatal: true });

/** A block's key: its seq, zero-padded so that LevelDB's byte order is seq order. */
export function seqKey(seq: bigint): string {
  return seq.toString().padStart(SEQ_DIGITS, '0');
}

export function encodeSeq(seq: bigint): Uint8Array {
  return text.encode(seqKey(seq));
}

export function decodeSeq(bytes: Uint8Array): bigint {
  return decodeUint(bytes, 'a receipt index entry');
}

export function encodeUint(n: bigint): Uint8Array {
  return text.encode(n.toString());
}

export function decodeUint(bytes: Uint8Array, what: string): bigint {
  const s = untext.decode(bytes);
  if (!/^\d{1,20}$/.test(s)) throw corrupt(`${what} is not a whole number`);
  return BigInt(s);
}

interface StoredHead {
  readonly nodeId: string;
  readonly publicKey: string;
  readonly seq: string;
  readonly hash: string;
  readonly atMs: string;
  readonly genesisAtMs: string;
  readonly lastReceiptInAtMs: string | null;
  /** `pledged` is absent from heads stored before pledges: none then. */
  readonly balances: Record<Exclude<keyof ChainBalances, 'pledged'>, string> & { readonly pledged?: string };
}

export function encodeHead(head: ChainHead): Uint8Array {
  const b = head.balances;
  const stored: StoredHead = {
    nodeId: head.nodeId,
    publicKey: Buffer.from(head.publicKey).toString('hex'),
    seq: head.seq.toString(),
    hash: Buffer.from(head.hash).toString('hex'),
    atMs: head.atMs.toString(),
    genesisAtMs: head.genesisAtMs.toString(),
    lastReceiptInAtMs: head.lastReceiptInAtMs === undefined ? null : head.lastReceiptInAtMs.toString(),
    balances: {
      available: b.available.toString(),
      locked: b.locked.toString(),
      burned: b.burned.toString(),
      received: b.received.toString(),
      paid: b.paid.toString(),
      pledged: b.pledged.toString(),
    },
  };
  return text.encode(JSON.stringify(stored));
}

export function decodeHead(bytes: Uint8Array): ChainHead {
  let s: StoredHead;
  try {
    s = JSON.parse(untext.decode(bytes)) as StoredHead;
    const big = (x: string) => {
      if (!/^\d{1,20}$/.test(x)) throw new Error('not a number');
      return BigInt(x);
    };
    const b = s.balances;
    return {
      nodeId: s.nodeId,
      publicKey: new Uint8Array(Buffer.from(s.publicKey, 'hex')),
      seq: big(s.seq),
      hash: new Uint8Array(Buffer.from(s.hash, 'hex')),
      atMs: big(s.atMs),
      genesisAtMs: big(s.genesisAtMs),
      lastReceiptInAtMs: s.lastReceiptInAtMs === null ? undefined : big(s.lastReceiptInAtMs),
      balances: { available: big(b.available), locked: big(b.locked), burned: big(b.burned), received: big(b.received), paid: big(b.paid), pledged: big(b.pledged ?? '0') },
    };
  } catch (err) {
    throw corrupt('the chain head record does not decode', err);
  }
}

function corrupt(message: string, cause?: unknown): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `ledger store: ${message}`, false, cause === undefined ? undefined : { cause });
}

/** A ledger change that writes side records only. */
export function sideOnly<R>(result: R, side: SideWrite[]): Change<R> {
  return { result, accounts: [], escrows: [], entries: [], side };
}

/** A whole-number meta record (the pledge, the voided counts); 0 when it was never written. */
export function metaUint(view: { side(space: 'meta', key: string): Uint8Array | undefined }, key: string, what: string): bigint {
  const bytes = view.side('meta', key);
  return bytes ? decodeUint(bytes, what) : 0n;
}

/** The write of a whole-number meta record; the pledge never goes below 0. */
export function metaUintWrite(key: string, value: bigint): SideWrite {
  return { space: 'meta', key, value: encodeUint(value < 0n ? 0n : value) };
}
