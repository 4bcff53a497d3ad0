import { manualClock } from '@swarm/determinism';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERT_FILE, CERT_LIFETIME_MS, CERT_RENEW_BEFORE_MS, KEY_FILE, loadOrCreateIdentity, loadOrCreateNodeCertificate, nodeIdOfCertificate } from './index';

const START_MS = Date.parse('2027-01-01T00:00:00Z');

describe('identity - loadOrCreateNodeCertificate', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-cert-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('makes a 0600 self-signed certificate whose key is the node key and whose subject is the node id', async () => {
    const cert = await loadOrCreateNodeCertificate(dir, manualClock(START_MS));
    const id = await loadOrCreateIdentity(dir);
    expect(cert.nodeId).toBe(id.nodeId);
    const x = new X509Certificate(cert.certPem);
    expect(x.subject).toBe(`CN=${id.nodeId}`);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(nodeIdOfCertificate(x.raw)).toBe(id.nodeId);
    expect(cert.notAfterMs).toBe(Date.parse(x.validTo));
    expect(cert.notAfterMs - START_MS).toBeLessThanOrEqual(CERT_LIFETIME_MS);
    expect((await stat(join(dir, CERT_FILE))).mode & 0o777).toBe(0o600);
    expect(cert.keyPem).toContain('BEGIN PRIVATE KEY');
  });

  it('loads the same certificate while it fits, and remakes it near expiry', async () => {
    const clock = manualClock(START_MS);
    const first = await loadOrCreateNodeCertificate(dir, clock);
    clock.advance(CERT_LIFETIME_MS - CERT_RENEW_BEFORE_MS - 60_000);
    expect((await loadOrCreateNodeCertificate(dir, clock)).certPem).toBe(first.certPem);
    clock.advance(120_000);
    const renewed = await loadOrCreateNodeCertificate(dir, clock);
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.nodeId).toBe(first.nodeId);
    expect(await readFile(join(dir, CERT_FILE), 'utf8')).toBe(renewed.certPem);
  });

  it('remakes the certificate when the node key changed or the file is not a certificate', async () => {
    const clock = manualClock(START_MS);
    const first = await loadOrCreateNodeCertificate(dir, clock);
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(join(dir, KEY_FILE), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const rekeyed = await loadOrCreateNodeCertificate(dir, clock);
    expect(rekeyed.nodeId).not.toBe(first.nodeId);
    expect(nodeIdOfCertificate(new X509Certificate(rekeyed.certPem).raw)).toBe(rekeyed.nodeId);
    await writeFile(join(dir, CERT_FILE), 'garbage');
    const repaired = await loadOrCreateNodeCertificate(dir, clock);
    expect(nodeIdOfCertificate(new X509Certificate(repaired.certPem).raw)).toBe(rekeyed.nodeId);
  });

  it('refuses a certificate whose key is not Ed25519', () => {
    expect(() => nodeIdOfCertificate(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'SWARM_BAD_IDENTITY' }));
  });
});
