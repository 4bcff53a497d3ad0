import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainHead } from '@swarm/chain';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { decodePayerViews, encodePayerViews, loadPayerViews, PAYER_VIEWS_FILE, PAYER_VIEWS_SAVE_MS, startPayerViewSaver } from './payer-view-file';
import type { KeptView, PayerViewStats } from './payer-views';
import { ReceiptIdSet } from './receipt-id-set';

const ME = 'e'.repeat(64);
const PAYER = 'a'.repeat(64);

function head(nodeId = PAYER, seq = 7n): ChainHead {
  return {
    nodeId,
    publicKey: new Uint8Array(32).fill(1),
    seq,
    hash: new Uint8Array(32).fill(2),
    atMs: 1_000n,
    genesisAtMs: 500n,
    lastReceiptInAtMs: undefined,
    balances: { available: 990n, locked: 0n, burned: 0n, received: 40n, paid: 40n, pledged: 10n },
  };
}

function view(payer = PAYER, seq = 7n): KeptView {
  const ids = new ReceiptIdSet();
  for (let i = 0; i < 100; i += 1) ids.add(`task-${i}:${payer}:${ME}`);
  return { payer, head: head(payer, seq), ids, pledges: new Map([['0123456789abcdef', { digest: 'f'.repeat(64), amount: 10n, released: false }]]) };
}

describe('payer view file - the chains audited, kept across a restart', () => {
  let dir: TempDir;
  let path: string;
  beforeEach(async () => {
    dir = await tempDir('swarm-payer-views-');
    path = join(dir.path, PAYER_VIEWS_FILE);
  });
  afterEach(() => dir.remove());

  it('reads back what it wrote: heads, receipt ids and pledges', () => {
    const kept = [view(), view('b'.repeat(64), 3n)];
    const { views, dropped } = decodePayerViews(ME, encodePayerViews(ME, kept));
    expect(dropped).toBe(0);
    expect(views.map((v) => ({ payer: v.payer, head: v.head, pledges: [...v.pledges], size: v.ids.size }))).toEqual(
      kept.map((v) => ({ payer: v.payer, head: { ...v.head, publicKey: Buffer.from(v.head.publicKey), hash: Buffer.from(v.head.hash) }, pledges: [...v.pledges], size: 100 })),
    );
    let missing = 0;
    for (let i = 0; i < 100; i += 1) if (!views[0].ids.has(`task-${i}:${PAYER}:${ME}`)) missing += 1;
    expect(missing).toBe(0);
    expect(views[0].ids.has(`task-100:${PAYER}:${ME}`)).toBe(false);
  });

  it('refuses a torn or damaged file, one of another node, and drops a view that does not hold alone', () => {
    const bytes = encodePayerViews(ME, [view()]);
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 5] ^= 1;
    expect(() => decodePayerViews(ME, flipped)).toThrow(/checksum/);
    expect(() => decodePayerViews(ME, bytes.subarray(0, bytes.length - 1))).toThrow(/checksum/);
    expect(() => decodePayerViews(ME, bytes.subarray(0, 10))).toThrow(/checksum/);
    expect(() => decodePayerViews('d'.repeat(64), bytes)).toThrow(/another node/);
    const bad: KeptView[] = [
      { ...view(), head: head(PAYER, 0n) },
      { ...view(), head: head('c'.repeat(64)) },
      { ...view(), pledges: new Map([['xyz', { digest: 'f'.repeat(64), amount: 1n, released: false }]]) },
      { ...view(), head: { ...head(), balances: { ...head().balances, available: -1n } } },
      { ...view(), head: { ...head(), hash: new Uint8Array(31) } },
      view('b'.repeat(64)),
    ];
    const { views, dropped } = decodePayerViews(ME, encodePayerViews(ME, bad));
    expect({ kept: views.map((v) => v.payer), dropped }).toEqual({ kept: ['b'.repeat(64)], dropped: 5 });
  });

  it('starts from nothing without a file, and sets a damaged one aside', async () => {
    expect(await loadPayerViews(path, ME, silentLogger())).toEqual([]);
    await writeFile(path, 'not a payer views file');
    expect(await loadPayerViews(path, ME, silentLogger())).toEqual([]);
    expect(existsSync(path)).toBe(false);
    expect(await readFile(`${path}.unreadable`, 'utf8')).toBe('not a payer views file');
  });

  it('writes at its interval and at stop, only when chains were read since; a failed write is tried again', async () => {
    const time = virtualTime(1_000);
    let stats: Pick<PayerViewStats, 'blocksRead' | 'badChains'> = { blocksRead: 0, badChains: 0 };
    const kept = [view()];
    const views = { kept: () => kept, stats: () => stats as PayerViewStats };
    const seqs = async () => (await loadPayerViews(path, ME, silentLogger())).map((v) => v.head.seq);
    const warnings: string[] = [];
    const log = silentLogger();
    jest.spyOn(log, 'warn').mockImplementation((_obj: unknown, msg?: string) => void warnings.push(String(msg)));
    const saver = startPayerViewSaver({ views, path, nodeId: ME, scheduler: time.scheduler, log });
    await time.advance(PAYER_VIEWS_SAVE_MS);
    expect(existsSync(path)).toBe(false);
    stats = { blocksRead: 7, badChains: 0 };
    await time.advance(PAYER_VIEWS_SAVE_MS);
    await waitFor(() => existsSync(path));
    expect(await seqs()).toEqual([7n]);
    // A write that fails (a folder in the file's way) is tried again at the next one.
    await mkdir(`${path}.${process.pid}.2.tmp`);
    kept[0] = view(PAYER, 9n);
    stats = { blocksRead: 9, badChains: 0 };
    await time.advance(PAYER_VIEWS_SAVE_MS);
    await waitFor(() => warnings.length > 0 || undefined);
    expect(warnings).toEqual(["could not keep the payers' chains read; will try again"]);
    expect(await seqs()).toEqual([7n]);
    await rm(`${path}.${process.pid}.2.tmp`, { recursive: true, force: true });
    await saver.stop();
    expect(await seqs()).toEqual([9n]);
  });
});
