import { MAX_SIGHTING_TTL_MS } from '@swarm/chain';
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open as openFile, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PublishedJournal } from './published-sightings';
import { COMPACT_MIN_RECORDS, MAX_RECORD_BLOCK_BYTES } from './published-sightings';

import { journalPerTest } from './test-fixtures/journal';
describe('published sightings journal', () => {
  const bed = journalPerTest('swarm-journal-');
  const seqs = (journal: PublishedJournal) => Object.fromEntries([...journal.kept].map(([payer, p]) => [payer, p.seq]));

  it("keeps each payer's highest block across a crash (no close), writes nothing for a lower one, and writes its block signed again", async () => {
    const first = await bed.open({ newLedger: true });
    const block = randomBytes(400);
    await first.record('payer-a', 7n, block);
    await first.record('payer-b', 3n, randomBytes(300));
    await first.record('payer-a', 9n, randomBytes(400));
    const size = (await stat(bed.path)).size;
    await first.record('payer-a', 2n, randomBytes(400));
    expect((await stat(bed.path)).size).toBe(size);
    await bed.vt.advance(60_000);
    await first.record('payer-a', 9n, randomBytes(400));
    expect((await stat(bed.path)).size).toBeGreaterThan(size);
    expect(first.kept.get('payer-a')?.atMs).toBe(bed.vt.clock.now());
    const again = await bed.open();
    expect(seqs(again)).toEqual({ 'payer-a': 9n, 'payer-b': 3n });
    expect(again.complete()).toBe(true);
  });

  it('puts records that come together under one sync, each one kept', async () => {
    const journal = await bed.open({ newLedger: true });
    const probe = await openFile(join(bed.dir, 'probe'), 'w');
    await probe.close();
    const syncs = jest.spyOn(Object.getPrototypeOf(probe) as FileHandle, 'datasync');
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.record(`payer-${i % 50}`, BigInt(i), randomBytes(64))));
    // The first record's sync, then one for the 199 that came meanwhile.
    expect(syncs.mock.calls.length).toBeLessThanOrEqual(2);
    syncs.mockRestore();
    const again = await bed.open();
    expect(again.kept.size).toBe(50);
    expect(again.kept.get('payer-7')?.seq).toBe(157n);
  });

  it('drops a torn last record (a crash in its append: its sighting never went out) and stays complete', async () => {
    const journal = await bed.open({ newLedger: true });
    await journal.record('payer-a', 4n, randomBytes(400));
    await journal.record('payer-b', 5n, randomBytes(400));
    await truncate(bed.path, (await stat(bed.path)).size - 100);
    const again = await bed.open();
    expect({ kept: seqs(again), complete: again.complete() }).toEqual({ kept: { 'payer-a': 4n }, complete: true });
  });

  it(`is incomplete for ${MAX_SIGHTING_TTL_MS / 3_600_000} h after a record before the end does not hold, with the records before it kept, across restarts`, async () => {
    const journal = await bed.open({ newLedger: true });
    await journal.record('payer-a', 4n, randomBytes(400));
    await journal.record('payer-b', 5n, randomBytes(400));
    await journal.record('payer-c', 6n, randomBytes(400));
    const bytes = await readFile(bed.path);
    // A byte in payer-b's block: its record no longer matches its digest.
    bytes[bytes.length - 700] ^= 1;
    await writeFile(bed.path, bytes);
    const damaged = await bed.open();
    expect({ kept: seqs(damaged), complete: damaged.complete() }).toEqual({ kept: { 'payer-a': 4n }, complete: false });
    await bed.vt.advance(MAX_SIGHTING_TTL_MS - 1_000);
    expect((await bed.open()).complete()).toBe(false);
    await bed.vt.advance(1_000);
    expect((await bed.open()).complete()).toBe(true);
  });

  it('starts complete only where nothing was kept before (a new node), not over an older node state', async () => {
    expect((await bed.open({ newLedger: true })).complete()).toBe(true);
    await rm(bed.path);
    const over = await bed.open({ newLedger: false });
    expect(over.complete()).toBe(false);
    await bed.vt.advance(MAX_SIGHTING_TTL_MS);
    expect(over.complete()).toBe(true);
  });

  it.each([
    ['a bad header', async () => writeFile(bed.path, 'not a journal')],
    ['a symbolic link', async () => symlink(join(bed.dir, 'elsewhere'), bed.path)],
    ['a directory', async () => mkdir(bed.path)],
  ])('sets %s aside and starts incomplete', async (_what, make) => {
    await mkdir(join(bed.dir, 'ledger'), { recursive: true });
    await make();
    const journal = await bed.open({ newLedger: true });
    expect({ kept: journal.kept.size, complete: journal.complete() }).toEqual({ kept: 0, complete: false });
    await lstat(`${bed.path}.unreadable`);
    await journal.record('payer-a', 1n, randomBytes(10));
    expect(seqs(await bed.open())).toEqual({ 'payer-a': 1n });
  });

  it(`rewrites itself whole past ${COMPACT_MIN_RECORDS} records, and then forgets a payer no longer kept whose sighting expired`, async () => {
    const payers = Array.from({ length: 100 }, (_, i) => `payer-${i}`);
    const kept = new Set(payers);
    const journal = await bed.open({ newLedger: true, keep: (payer) => kept.has(payer) });
    for (let seq = 1n; seq <= 42n; seq++) await Promise.all(payers.map((payer) => journal.record(payer, seq, randomBytes(100))));
    // About 400 records of 136 bytes since the last rewrite, not 4,200.
    expect((await stat(bed.path)).size).toBeLessThan(100_000);
    kept.delete('payer-7');
    await bed.vt.advance(MAX_SIGHTING_TTL_MS + 1);
    const again = await bed.open({ keep: (payer) => kept.has(payer) });
    expect({ size: again.kept.size, keepsPayer7: again.kept.has('payer-7'), seq: again.kept.get('payer-8')?.seq }).toEqual({ size: 99, keepsPayer7: false, seq: 42n });
  });

  it('refuses a block over the size a record holds, and any record once closed', async () => {
    const journal = await bed.open({ newLedger: true });
    await expect(journal.record('payer-a', 1n, new Uint8Array(MAX_RECORD_BLOCK_BYTES + 1))).rejects.toThrow(/over the/);
    await journal.close();
    await expect(journal.record('payer-a', 1n, randomBytes(10))).rejects.toThrow(/closed/);
  });
});
