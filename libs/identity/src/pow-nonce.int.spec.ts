import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPowNonce, hasProofOfWork } from '@swarm/records';
import { loadOrCreateIdentity, loadOrCreatePowNonce, POW_FILE } from './index';

describe('identity - loadOrCreatePowNonce', () => {
  let dir: string;
  let nodeId: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-pow-'));
    nodeId = (await loadOrCreateIdentity(dir)).nodeId;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('finds a nonce once, keeps it beside the key and loads it afterwards', async () => {
    const nonce = await loadOrCreatePowNonce(dir, nodeId, 10);
    expect(hasProofOfWork(nodeId, nonce, 10)).toBe(true);
    expect(JSON.parse(await readFile(join(dir, POW_FILE), 'utf8'))).toEqual({ nodeId, difficulty: 10, nonce: nonce.toString() });
    // A kept nonce is used as it is: a planted one that still checks proves no new search ran.
    const planted = findPowNonce(nodeId, 10, { start: nonce + 1n });
    await writeFile(join(dir, POW_FILE), JSON.stringify({ nodeId, difficulty: 10, nonce: planted.toString() }));
    expect(await loadOrCreatePowNonce(dir, nodeId, 10)).toBe(planted);
  });

  it('gives concurrent starters the same nonce', async () => {
    const nonces = await Promise.all(Array.from({ length: 6 }, () => loadOrCreatePowNonce(dir, nodeId, 8)));
    expect(new Set(nonces).size).toBe(1);
  });

  it('searches again when the difficulty rises past the kept nonce, or the file is for another key or damaged', async () => {
    const weak = await loadOrCreatePowNonce(dir, nodeId, 2);
    const strong = await loadOrCreatePowNonce(dir, nodeId, 12);
    expect(hasProofOfWork(nodeId, strong, 12)).toBe(true);
    if (!hasProofOfWork(nodeId, weak, 12)) expect(strong).not.toBe(weak);
    await writeFile(join(dir, POW_FILE), JSON.stringify({ nodeId: 'ff'.repeat(32), difficulty: 12, nonce: '1' }));
    expect(await loadOrCreatePowNonce(dir, nodeId, 12)).toBe(strong);
    await writeFile(join(dir, POW_FILE), '{not json');
    expect(await loadOrCreatePowNonce(dir, nodeId, 12)).toBe(strong);
  });

  it('searches again when the difficulty falls: it keeps the first nonce at the difficulty asked (seeds are found by it)', async () => {
    const strong = await loadOrCreatePowNonce(dir, nodeId, 12);
    const weak = await loadOrCreatePowNonce(dir, nodeId, 6);
    expect(weak).toBe(findPowNonce(nodeId, 6));
    expect(JSON.parse(await readFile(join(dir, POW_FILE), 'utf8'))).toEqual({ nodeId, difficulty: 6, nonce: weak.toString() });
    // The strong nonce still proves 6 bits, but is not the one a joiner computes for this seed (unless they coincide).
    if (strong !== findPowNonce(nodeId, 6)) expect(weak).not.toBe(strong);
  });

  it('refuses a difficulty out of range', async () => {
    await expect(loadOrCreatePowNonce(dir, nodeId, 99)).rejects.toMatchObject({ codeName: 'SWARM_INVALID_ARGUMENT' });
  });
});
