import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import type { ChainHead } from '@swarm/chain';
import { CHAIN_AUDIT_VERSION, chainRules, createGenesis, forkProofOf, hex, sha256, verifyForkProof } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { SignedBlock } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { decodePayerViews, encodePayerViews, loadPayerViews, PAYER_VIEWS_FILE, PAYER_VIEWS_SAVE_MS, startPayerViewSaver, tidyPayerViews } from './payer-view-file';
import type { KeptView, PayerViewStats } from './payer-views';
import { MAX_VIEWS } from './payer-views';
import { ReceiptIdSet } from './receipt-id-set';

const ME = 'e'.repeat(64);
const RULES = chainRules();

/** A payer: its key, and its id (the key's SHA-256), as a head names them. */
function payerKey(n: number): { id: string; publicKey: Uint8Array } {
  const publicKey = new Uint8Array(32).fill(7);
  new DataView(publicKey.buffer).setUint32(0, n);
  return { id: hex(sha256(publicKey)), publicKey };
}
const PAYER_KEY = payerKey(1);
const PAYER = PAYER_KEY.id;
const OTHER_KEY = payerKey(2);

/** A head's block: what its hash names (its content is no matter to the file). */
const HEAD_INNER = new Uint8Array([8, 1, 16, 2]);
const HEAD_BLOCK = SignedBlock.encode({ block: HEAD_INNER, signature: new Uint8Array(64) }).finish();

function head(key = PAYER_KEY, seq = 200n): ChainHead {
  return {
    nodeId: key.id,
    publicKey: key.publicKey,
    seq,
    hash: sha256(HEAD_INNER),
    atMs: 1_000n,
    genesisAtMs: 500n,
    lastReceiptInAtMs: undefined,
    balances: { available: 990n, locked: 0n, burned: 0n, received: 40n, paid: 40n, pledged: 10n },
  };
}

/** 100 receipt ids, one open pledge of 10 and one released of 3 (the head's `pledged` is 10). */
function view(key = PAYER_KEY, seq = 200n): KeptView {
  const ids = new ReceiptIdSet();
  for (let i = 0; i < 100; i += 1) ids.add(`task-${i}:${key.id}:${ME}`);
  const pledges = new Map([
    ['0123456789abcdef', { digest: 'f'.repeat(64), amount: 10n, released: false }],
    ['fedcba9876543210', { digest: 'e'.repeat(64), amount: 3n, released: true }],
  ]);
  return {
    payer: key.id,
    head: head(key, seq),
    headBlock: HEAD_BLOCK,
    ids,
    pledges,
    checkpoints: new Map<bigint, Uint8Array>(
      seq >= 512n
        ? [
            [256n, new Uint8Array(32).fill(5)],
            [512n, new Uint8Array(32).fill(6)],
          ]
        : [],
    ),
  };
}

/** A payer that signed two genesis blocks, and the proof of it. */
function forkingPayer(): [string, ForkProof] {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = { publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(12)), sign: (d: Uint8Array) => new Uint8Array(sign(null, d, privateKey)) };
  const [a, b] = [createGenesis(signer, RULES, 1_000), createGenesis(signer, RULES, 2_000)];
  const proof = forkProofOf(a.blocks[0], b.blocks[0]);
  if (!proof) throw new Error('two genesis blocks at other times are a fork');
  return [a.head.nodeId, proof];
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
    const kept = [view(), view(OTHER_KEY, 150n)];
    const { views, dropped } = decodePayerViews(ME, RULES, encodePayerViews(ME, RULES, kept));
    expect(dropped).toBe(0);
    expect(views.map((v) => ({ payer: v.payer, head: v.head, headBlock: v.headBlock, pledges: [...v.pledges], size: v.ids.size }))).toEqual(
      kept.map((v) => ({
        payer: v.payer,
        head: { ...v.head, publicKey: Buffer.from(v.head.publicKey), hash: Buffer.from(v.head.hash) },
        headBlock: Buffer.from(HEAD_BLOCK),
        pledges: [...v.pledges],
        size: 100,
      })),
    );
    let missing = 0;
    for (let i = 0; i < 100; i += 1) if (!views[0].ids.has(`task-${i}:${PAYER}:${ME}`)) missing += 1;
    expect(missing).toBe(0);
    expect(views[0].ids.has(`task-100:${PAYER}:${ME}`)).toBe(false);
  });

  it('reads back the checkpoints a view keeps for sightings; a view without them (an older file) still holds, one with bad ones does not', () => {
    const long = view(PAYER_KEY, 600n);
    const back = decodePayerViews(ME, RULES, encodePayerViews(ME, RULES, [long, view(OTHER_KEY, 150n)]));
    expect(back.views.map((v) => [...v.checkpoints].map(([seq, hash]) => [seq, Buffer.from(hash).toString('hex')]))).toEqual([
      [
        [256n, '05'.repeat(32)],
        [512n, '06'.repeat(32)],
      ],
      [],
    ]);
    const bytesOf = (checkpoints: unknown): Uint8Array => {
      const body = serialize({
        version: 2,
        nodeId: ME,
        auditVersion: CHAIN_AUDIT_VERSION,
        rules: { ...RULES },
        views: [{ ...long, ids: long.ids.hashes(), pledges: [...long.pledges], checkpoints }].map((v) => (checkpoints === 'absent' ? { ...v, checkpoints: undefined } : v)),
        convicted: [],
        anchors: [],
      });
      return Buffer.concat([createHash('sha256').update(body).digest(), body]);
    };
    expect(decodePayerViews(ME, RULES, bytesOf('absent')).views.map((v) => v.checkpoints.size)).toEqual([0]);
    const hash = new Uint8Array(32);
    for (const bad of [
      [[300n, hash]],
      [[768n, hash]],
      [[256n, new Uint8Array(31)]],
      [
        [256n, hash],
        [256n, hash],
      ],
      'not a list',
      [[256, hash]],
    ]) {
      expect({ bad, dropped: decodePayerViews(ME, RULES, bytesOf(bad)).dropped }).toEqual({ bad, dropped: 1 });
    }
  });

  it('keeps the payers convicted of a fork with their proofs, and drops a proof that names another payer', () => {
    const forked = forkingPayer();
    const [other, proofOfOther] = forkingPayer();
    const bytes = encodePayerViews(ME, RULES, [view()], [forked, [other, proofOfOther], [PAYER, proofOfOther]]);
    const { views, convicted } = decodePayerViews(ME, RULES, bytes);
    expect(views.map((v) => v.payer)).toEqual([PAYER]);
    expect(convicted.map(([payer, proof]) => [payer, verifyForkProof(proof)])).toEqual([
      [forked[0], { nodeId: forked[0], seq: 1n }],
      [other, { nodeId: other, seq: 1n }],
    ]);
  });

  it('refuses a torn or damaged file, and one of another node', () => {
    const bytes = encodePayerViews(ME, RULES, [view()]);
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 5] ^= 1;
    expect(() => decodePayerViews(ME, RULES, flipped)).toThrow(/checksum/);
    expect(() => decodePayerViews(ME, RULES, bytes.subarray(0, bytes.length - 1))).toThrow(/checksum/);
    expect(() => decodePayerViews(ME, RULES, bytes.subarray(0, 10))).toThrow(/checksum/);
    expect(() => decodePayerViews('d'.repeat(64), RULES, bytes)).toThrow(/another node/);
  });

  it("keeps the anchors of forgotten views, and drops one whose block is not its payer's at its seq", () => {
    const [payer, proof] = forkingPayer();
    const block = SignedBlock.encode(proof.first!).finish();
    const bytes = encodePayerViews(
      ME,
      RULES,
      [],
      [],
      [
        [payer, { seq: 1n, block }],
        [payer.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), { seq: 1n, block }],
        [PAYER, { seq: 2n, block }],
      ],
    );
    expect(decodePayerViews(ME, RULES, bytes).anchors).toEqual([[payer, { seq: 1n, block: Buffer.from(block) }]]);
    // Kept under other rules too: which block a payer showed does not depend on them.
    expect(decodePayerViews(ME, chainRules({ genesisGrant: RULES.genesisGrant + 1n }), bytes).anchors.map(([p]) => p)).toEqual([payer]);
  });

  it('reads chains audited under other chain rules from genesis again, and keeps the convictions', () => {
    const forked = forkingPayer();
    const bytes = encodePayerViews(ME, RULES, [view()], [forked]);
    // A view audited under one genesis grant may hold a chain another grant refuses; a fork proof holds under any.
    for (const other of [chainRules({ genesisGrant: RULES.genesisGrant + 1n }), chainRules({ drainPpm: RULES.drainPpm + 1 })]) {
      const kept = decodePayerViews(ME, other, bytes);
      expect({ views: kept.views, convicted: kept.convicted.map(([p]) => p), stale: kept.stale }).toEqual({
        views: [],
        convicted: [forked[0]],
        stale: expect.stringMatching(/other chain rules/),
      });
      // Each view not taken still binds its payer: its head, an anchor.
      expect(kept.anchors.map(([p, a]) => [p, a.seq])).toEqual([[PAYER, 200n]]);
    }
  });

  it('drops, alone, a view that does not hold against its own head', () => {
    const open = (amount: bigint, released = false) => ({ digest: 'f'.repeat(64), amount, released });
    const bad: KeptView[] = [
      { ...view(), head: head(PAYER_KEY, 0n) },
      // More receipt ids (100) than blocks.
      { ...view(), head: head(PAYER_KEY, 50n) },
      // An id that is not the key's hash.
      { ...view(), payer: 'c'.repeat(64), head: { ...head(), nodeId: 'c'.repeat(64) } },
      { ...view(), pledges: new Map([['xyz', open(10n)]]) },
      { ...view(), pledges: new Map([['0123456789abcdef', open(-5n)]]) },
      // Open pledges adding up to other than the head's `pledged` (10).
      { ...view(), pledges: new Map([['0123456789abcdef', open(11n)]]) },
      { ...view(), pledges: new Map() },
      { ...view(), head: { ...head(), balances: { ...head().balances, available: -1n } } },
      { ...view(), head: { ...head(), hash: new Uint8Array(31) } },
      // Half a receipt id's hash: dropped alone, the file read on.
      { ...view(), ids: Object.assign(Object.create(ReceiptIdSet.prototype) as ReceiptIdSet, { hashes: () => new Uint32Array(3) }) },
      // A head block its hash does not name.
      { ...view(), headBlock: SignedBlock.encode({ block: new Uint8Array([9]), signature: new Uint8Array(64) }).finish() },
      view(OTHER_KEY),
    ];
    const { views, dropped } = decodePayerViews(ME, RULES, encodePayerViews(ME, RULES, bad));
    expect({ kept: views.map((v) => v.payer), dropped }).toEqual({ kept: [OTHER_KEY.id], dropped: 11 });
  });

  it('builds each payer once and no more views than are kept, the most recently used, however often the file names them', () => {
    const keys = Array.from({ length: MAX_VIEWS + 5 }, (_, i) => payerKey(i + 10));
    const many = keys.map((k) => view(k));
    // The same view again and again (a serialisation can reference one object many times): built once.
    const repeated = Array.from({ length: 50 }, () => many[0]);
    const { views, dropped } = decodePayerViews(ME, RULES, encodePayerViews(ME, RULES, [...repeated, ...many]));
    expect(views.length).toBe(MAX_VIEWS);
    expect(dropped).toBe(50 + 5);
    // The last MAX_VIEWS of the file, least recently used first.
    expect(views.map((v) => v.payer)).toEqual(keys.slice(5).map((k) => k.id));
    // A payer named again later: built once, where it was named last.
    const [a, b] = [view(PAYER_KEY), view(OTHER_KEY)];
    const again = decodePayerViews(ME, RULES, encodePayerViews(ME, RULES, [a, b, a, a, a]));
    expect({ payers: again.views.map((v) => v.payer), dropped: again.dropped }).toEqual({ payers: [OTHER_KEY.id, PAYER], dropped: 3 });
  });

  it('starts from nothing without a file, sets a damaged one, a link or a FIFO aside, and removes what crashed writes left', async () => {
    expect(await loadPayerViews(path, ME, RULES, silentLogger())).toEqual({ views: [], convicted: [], anchors: [] });
    await writeFile(path, 'not a payer views file');
    expect(await loadPayerViews(path, ME, RULES, silentLogger())).toEqual({ views: [], convicted: [], anchors: [] });
    expect(existsSync(path)).toBe(false);
    expect(await readFile(`${path}.unreadable`, 'utf8')).toBe('not a payer views file');
    // A link to a good file is not followed.
    const elsewhere = join(dir.path, 'elsewhere');
    await writeFile(elsewhere, encodePayerViews(ME, RULES, [view()]));
    await symlink(elsewhere, path);
    expect(await loadPayerViews(path, ME, RULES, silentLogger())).toEqual({ views: [], convicted: [], anchors: [] });
    expect((await lstat(`${path}.unreadable`)).isSymbolicLink()).toBe(true);
    // A FIFO would hang a read: refused at once.
    execFileSync('mkfifo', [path]);
    expect(await loadPayerViews(path, ME, RULES, silentLogger())).toEqual({ views: [], convicted: [], anchors: [] });
    expect((await lstat(`${path}.unreadable`)).isFIFO()).toBe(true);
    // Temporary files of writes a kill cut short go; the last whole file is read.
    await writeFile(path, encodePayerViews(ME, RULES, [view()]));
    await writeFile(`${path}.12345.1.tmp`, 'half a file');
    expect((await loadPayerViews(path, ME, RULES, silentLogger())).views.map((v) => v.payer)).toEqual([PAYER]);
    expect(existsSync(`${path}.12345.1.tmp`)).toBe(false);
  });

  it('reads without tidying when asked (before the ledger is its own), and tidies after: a damaged file and the temporary files stay until then', async () => {
    await writeFile(path, 'not a payer views file');
    await writeFile(`${path}.12345.1.tmp`, 'half a file');
    const kept = await loadPayerViews(path, ME, RULES, silentLogger(), { tidy: false });
    expect({ views: kept.views, unusable: typeof kept.unusable, file: existsSync(path), tmp: existsSync(`${path}.12345.1.tmp`) }).toEqual({
      views: [],
      unusable: 'string',
      file: true,
      tmp: true,
    });
    await tidyPayerViews(path, kept, silentLogger());
    expect({ file: existsSync(path), aside: existsSync(`${path}.unreadable`), tmp: existsSync(`${path}.12345.1.tmp`) }).toEqual({ file: false, aside: true, tmp: false });
  });

  it('writes at its interval and at stop, only when chains were read since; a failed write is tried again', async () => {
    const time = virtualTime(1_000);
    let stats: Pick<PayerViewStats, 'blocksRead' | 'badChains' | 'forks'> = { blocksRead: 0, badChains: 0, forks: 0 };
    const kept = [view()];
    const views = { kept: () => kept, convictions: () => [], anchors: () => [], stats: () => stats as PayerViewStats };
    const seqs = async () => (await loadPayerViews(path, ME, RULES, silentLogger())).views.map((v) => v.head.seq);
    const warnings: string[] = [];
    const log = silentLogger();
    jest.spyOn(log, 'warn').mockImplementation((_obj: unknown, msg?: string) => void warnings.push(String(msg)));
    const saver = startPayerViewSaver({ views, path, nodeId: ME, rules: RULES, scheduler: time.scheduler, log });
    await time.advance(PAYER_VIEWS_SAVE_MS);
    expect(existsSync(path)).toBe(false);
    stats = { blocksRead: 7, badChains: 0, forks: 0 };
    await time.advance(PAYER_VIEWS_SAVE_MS);
    // The file is there at its rename; the next write's timer is set only once the write has ended
    // (a directory sync later): advanced before that, no write came (a loaded CI run here).
    await waitFor(() => existsSync(path) && time.pending() > 0);
    expect(await seqs()).toEqual([200n]);
    // A write that fails (a folder in the file's way) is tried again at the next one.
    await mkdir(`${path}.${process.pid}.tmp`);
    kept[0] = view(PAYER_KEY, 209n);
    stats = { blocksRead: 9, badChains: 0, forks: 0 };
    await time.advance(PAYER_VIEWS_SAVE_MS);
    await waitFor(() => warnings.length > 0 || undefined);
    expect(warnings).toEqual(["could not keep the payers' chains read; will try again"]);
    expect(await seqs()).toEqual([200n]);
    await rm(`${path}.${process.pid}.tmp`, { recursive: true, force: true });
    await saver.stop();
    expect(await seqs()).toEqual([209n]);
  });
});
