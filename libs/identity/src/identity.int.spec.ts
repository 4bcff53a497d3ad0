import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_FILE, loadOrCreateIdentity, nodeIdOf, verifySignature } from './index';

describe('identity - loadOrCreateIdentity', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-id-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates a key once and loads the same identity afterwards', async () => {
    const a = await loadOrCreateIdentity(dir);
    const b = await loadOrCreateIdentity(dir);
    expect(a.nodeId).toBe(b.nodeId);
    expect(a.nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect(a.nodeId).toBe(nodeIdOf(a.publicKey));
    expect((await stat(join(dir, KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('gives every concurrent starter the same key', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(dir)));
    expect(new Set(ids.map((i) => i.nodeId)).size).toBe(1);
  });

  it('signs so that the public key verifies, and rejects tampering', async () => {
    const id = await loadOrCreateIdentity(dir);
    const data = new TextEncoder().encode('receipt');
    const sig = id.sign(data);
    expect(verifySignature(id.publicKey, data, sig)).toBe(true);
    expect(verifySignature(id.publicKey, new TextEncoder().encode('receipt!'), sig)).toBe(false);
  });

  it('refuses a corrupt key file with a clear error', async () => {
    await writeFile(join(dir, KEY_FILE), 'not a key');
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: 'SWARM_BAD_IDENTITY' });
  });
});
