/**
 * `npm run bench -- --chain`: the per-node chains of @swarm/chain, in one process, no I/O. Two nodes
 * pay each other 1 credit per task, alternately; per payment the payer makes and signs a receipt,
 * the payee checks and countersigns it, and both append it (each append checks both signatures and
 * signs a block). Rows: raw Ed25519 sign and verify (the floor, same run), a verify from raw key
 * bytes with the key parsed each time and kept (@swarm/records), blocks appended and
 * signed per second, whole settlements (receipt + both appends: 4 signatures, 5 verifications) per
 * second, a whole-chain audit (every signature, link and balance) in blocks per second, and the
 * cross-chain conservation check.
 */
import { performance } from 'node:perf_hooks';
import { createPublicKey, generateKeyPairSync, sign, verify as cryptoVerify } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import type { ChainAudit, ChainHead, ChainSigner, CrossChainReport } from '@swarm/chain';
import { appendReceipt, cachedSignatureCheck, chainRules, checkCrossChain, countersignReceipt, createGenesis, makeReceipt, verifyChain } from '@swarm/chain';
import { verifyEd25519 } from '@swarm/records';
import Table from 'cli-table3';

const T0 = 1_700_000_000_000;
// The SPKI DER of an Ed25519 key ends with the raw 32-byte key (RFC 8410 §4).
const SPKI_PREFIX_BYTES = 12;

export interface ChainBenchRow {
  readonly name: string;
  readonly count: number;
  readonly unit: string;
  readonly perSec: number;
  readonly usPerItem: number;
  /** CPU time (user + system) per item: steadier than wall time on a shared machine. */
  readonly cpuUsPerItem: number;
}

interface BenchNode {
  readonly signer: ChainSigner;
  head: ChainHead;
  readonly blocks: Uint8Array[];
  readonly ids: Set<string>;
}

function freshSigner(): ChainSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX_BYTES));
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

export function benchChain(payments: number): ChainBenchRow[] {
  const rules = chainRules();
  const nodes: BenchNode[] = [0, 1].map(() => {
    const signer = freshSigner();
    const g = createGenesis(signer, rules, T0);
    return { signer, head: g.head, blocks: [...g.blocks], ids: new Set<string>() };
  });
  const hash = new Uint8Array(32).fill(7);
  // As a service would keep one: the two keys are parsed once.
  const checkSignature = cachedSignatureCheck();
  let append = { ms: 0, cpuUs: 0 };
  const settle = measure(() => {
    for (let i = 0; i < payments; i += 1) {
      const payer = nodes[(i + 1) % 2];
      const payee = nodes[i % 2];
      const atMs = T0 + 1_000 * (i + 1);
      const signed = countersignReceipt(
        makeReceipt({ payeePublicKey: payee.signer.publicKey, amount: 1n, taskId: `task-${i}`, taskHash: hash, resultHash: hash, atMs, serveTicket: hash }, payer.signer),
        payee.signer,
        { checkSignature },
      );
      const one = measure(() => {
        for (const node of [payee, payer]) {
          const r = appendReceipt(node.head, signed, node.signer, rules, { atMs, hasReceipt: (id) => node.ids.has(id), checkSignature });
          node.head = r.head;
          node.blocks.push(...r.blocks);
        }
      });
      append = { ms: append.ms + one.ms, cpuUs: append.cpuUs + one.cpuUs };
      for (const node of [payee, payer]) node.ids.add(`task-${i}:${payer.head.nodeId}:${payee.head.nodeId}`);
    }
  });
  let audits: ChainAudit[] = [];
  const verify = measure(() => {
    audits = nodes.map((n) => verifyChain(n.blocks, rules));
  });
  let report: CrossChainReport | undefined;
  const cross = measure(() => {
    report = checkCrossChain(audits);
  });
  if (!report?.conserved) throw new Error(`chain bench: the cross-chain check failed: ${report?.problems[0] ?? ''}`);
  const blocks = nodes.reduce((sum, n) => sum + n.blocks.length, 0);
  const row = (name: string, count: number, unit: string, t: Timing): ChainBenchRow => ({
    name,
    count,
    unit,
    perSec: (count / t.ms) * 1_000,
    usPerItem: (t.ms * 1_000) / count,
    cpuUsPerItem: t.cpuUs / count,
  });
  // The floor in the same run: one Ed25519 sign and one verify of a receipt block's size.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const sample = nodes[0].blocks[nodes[0].blocks.length - 1];
  const signature = sign(null, sample, privateKey);
  const rawSign = measure(() => {
    for (let i = 0; i < payments; i += 1) sign(null, sample, privateKey);
  });
  const rawVerify = measure(() => {
    for (let i = 0; i < payments; i += 1) cryptoVerify(null, sample, publicKey, signature);
  });
  // What every record, block and sighting check paid before keys were kept: the raw key parsed each time.
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const prefix = spki.subarray(0, SPKI_PREFIX_BYTES);
  const rawKey = new Uint8Array(spki.subarray(SPKI_PREFIX_BYTES));
  const parsedEachTime = measure(() => {
    for (let i = 0; i < payments; i += 1) cryptoVerify(null, sample, createPublicKey({ key: Buffer.concat([prefix, rawKey]), format: 'der', type: 'spki' }), signature);
  });
  // Each verified once: a signature verifyEd25519 saw pass is answered again without verifying (the row after).
  const fresh = Array.from({ length: payments }, (_, i) => {
    const bytes = Buffer.concat([sample, Buffer.from(`#${i}`)]);
    return { bytes, signature: sign(null, bytes, privateKey) };
  });
  const keptKey = measure(() => {
    for (const { bytes, signature: s } of fresh) verifyEd25519(rawKey, bytes, s);
  });
  const verifiedBefore = measure(() => {
    for (const { bytes, signature: s } of fresh) verifyEd25519(rawKey, bytes, s);
  });
  return [
    row(`raw Ed25519 sign (node:crypto, ${sample.length} bytes)`, payments, 'signatures', rawSign),
    row(`raw Ed25519 verify (parsed key, ${sample.length} bytes)`, payments, 'signatures', rawVerify),
    row('Ed25519 verify, the raw key parsed each time (before keys were kept)', payments, 'signatures', parsedEachTime),
    row('Ed25519 verify from raw key bytes, each signature new (@swarm/records: keys kept per process)', payments, 'signatures', keptKey),
    row('the same signatures again (@swarm/records: signatures that passed kept, SHA-256 of the bytes)', payments, 'signatures', verifiedBefore),
    row('append + sign a receipt block (checks both receipt signatures; kept from the countersign)', 2 * payments, 'blocks', append),
    row('settlement: receipt made, countersigned, appended to both chains', payments, 'settlements', settle),
    row('verify whole chains (signatures, links, receipts, balances; receipts kept from the appends)', blocks, 'blocks', verify),
    row('cross-chain check (each receipt in its two chains, conservation)', blocks, 'blocks', cross),
  ];
}

interface Timing {
  readonly ms: number;
  readonly cpuUs: number;
}

function measure(fn: () => void): Timing {
  const cpu = process.cpuUsage();
  const t = performance.now();
  fn();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t, cpuUs: used.user + used.system };
}

export function printChainBench(quick: boolean): void {
  const payments = quick ? 500 : 2_000;
  process.stderr.write(`bench: chains, ${payments} payments between two nodes…\n`);
  const rows = benchChain(payments);
  const t = new Table({
    head: ['chains (one process, no I/O)', 'count', 'per second', 'µs each', 'CPU µs each'],
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
  for (const r of rows) t.push([r.name, `${r.count} ${r.unit}`, r.perSec.toFixed(0), r.usPerItem.toFixed(1), r.cpuUsPerItem.toFixed(1)]);
  process.stdout.write(`\nSigned receipts and hash-chained ledgers (@swarm/chain; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)\n${t.toString()}\n`);
}
