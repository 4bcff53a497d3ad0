/**
 * helper-160's attacks on the journal of published sightings (published-sightings.ts): what a crash,
 * a full disk, a damaged byte or an upgrade could make it lose while it still says it is complete
 * (a complete journal skips the find of this node's own sighting after a start). A1-A5 each failed
 * on the first version; the rest held then and are kept.
 */
import { MAX_SIGHTING_TTL_MS } from '@swarm/chain';
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open as openFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PAYER_VIEWS_FILE } from './payer-view-file';
import { isNewLedger } from './published-sightings';

const MAGIC_BYTES = 'swarm-published-sightings-v2\n'.length;
const HEADER_BYTES = MAGIC_BYTES + 8 + 1 + 8;

/** FileHandle's prototype, to make one of its calls fail or fall short. */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const probe = await openFile(join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as FileHandle;
}

import { journalPerTest } from './test-fixtures/journal';
describe('ATTACK (helper-160): the journal of published sightings', () => {
  const bed = journalPerTest('swarm-journal-attack-');

  it('A1: writes every byte of a record before it answers, though a write takes only part of them (a disk filling up)', async () => {
    const journal = await bed.open({ newLedger: true });
    await journal.record('payer-a', 4n, randomBytes(400));
    const proto = await fileHandlePrototype(bed.dir);
    const real = Reflect.get(proto, 'write') as (this: FileHandle, b: Uint8Array, o: number, l: number) => Promise<unknown>;
    jest.spyOn(proto, 'write').mockImplementationOnce(async function (this: FileHandle, buffer: Uint8Array, offset = 0, length = buffer.length - offset) {
      const half = Math.floor(length / 2);
      await real.call(this, buffer, offset, half);
      return { bytesWritten: half, buffer };
    } as never);
    await journal.record('payer-a', 9n, randomBytes(400));
    // kill -9 here: the next start reads the file.
    expect((await bed.open()).kept.get('payer-a')?.seq).toBe(9n);
  });

  it('A2: a bad length in a record before the end leaves the journal incomplete, not read as a torn last append', async () => {
    const journal = await bed.open({ newLedger: true });
    for (const [payer, seq] of [
      ['payer-a', 4n],
      ['payer-b', 5n],
      ['payer-c', 6n],
    ] as const)
      await journal.record(payer, seq, randomBytes(400));
    await journal.close();
    const bytes = await readFile(bed.path);
    bytes[HEADER_BYTES] ^= 0x80;
    await writeFile(bed.path, bytes);
    const damaged = await bed.open();
    expect({ kept: damaged.kept.size, complete: damaged.complete() }).toEqual({ kept: 0, complete: false });
  });

  it("A3: a changed header (its 'started on a new ledger' flag, its start time) is set aside, and the journal starts incomplete", async () => {
    for (const at of [HEADER_BYTES - 9, MAGIC_BYTES]) {
      await rm(bed.ledger, { recursive: true, force: true });
      const journal = await bed.open({ newLedger: false });
      expect(journal.complete()).toBe(false);
      await journal.close();
      const bytes = await readFile(bed.path);
      bytes[at] ^= 1;
      await writeFile(bed.path, bytes);
      expect((await bed.open({ newLedger: true })).complete()).toBe(false);
    }
  });

  it('A4: keeps a record while the sighting it last signed may live, its payer no longer kept', async () => {
    let kept = true;
    const journal = await bed.open({ newLedger: true, keep: () => kept });
    await journal.record('payer-a', 5n, randomBytes(400));
    // Signed again every hour with the same block.
    for (let hour = 1; hour <= 5; hour++) {
      await bed.vt.advance(3_600_000);
      await journal.record('payer-a', 5n, randomBytes(400));
    }
    // The one signed at +5 h lives to +11 h; at +6.5 h its payer's anchor is gone (past MAX_ANCHORS).
    await bed.vt.advance(90 * 60_000);
    kept = false;
    expect((await bed.open({ keep: () => kept })).kept.get('payer-a')?.seq).toBe(5n);
    await bed.vt.advance(MAX_SIGHTING_TTL_MS);
    expect((await bed.open({ keep: () => kept })).kept.has('payer-a')).toBe(false);
  });

  it.each([
    ['an older node (no journal) killed in its first minute: its bed.ledger, no views file yet', async () => writeFile(join(bed.ledger, 'CURRENT'), 'MANIFEST-000001\n')],
    ['a views file set aside (torn, damaged, or another version)', async () => writeFile(join(bed.ledger, `${PAYER_VIEWS_FILE}.unreadable`), 'not a views file')],
  ])('A5: with no journal, starts incomplete over %s', async (_what, make) => {
    await mkdir(bed.ledger, { recursive: true });
    await make();
    const journal = await bed.open({ newLedger: await isNewLedger(bed.ledger) });
    expect(journal.complete()).toBe(false);
  });

  it('starts complete on a new bed.ledger: no folder, or an empty one', async () => {
    expect(await isNewLedger(bed.ledger)).toBe(true);
    await mkdir(bed.ledger);
    expect(await isNewLedger(bed.ledger)).toBe(true);
  });

  it('(holds) answers no record when it could not rewrite itself at open (its folder is a file): nothing is published', async () => {
    await writeFile(bed.ledger, 'a file where the folder goes');
    const journal = await bed.open({ newLedger: true });
    await expect(journal.record('a', 1n, randomBytes(10))).rejects.toThrow();
    expect(journal.kept.size).toBe(0);
  });

  it('(holds) keeps no record whose sync failed, and the next one rewrites the file whole', async () => {
    const journal = await bed.open({ newLedger: true });
    await journal.record('a', 1n, randomBytes(10));
    jest.spyOn(await fileHandlePrototype(bed.dir), 'datasync').mockImplementationOnce(async () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    });
    await expect(journal.record('a', 5n, randomBytes(10))).rejects.toThrow('EIO');
    expect(journal.kept.get('a')?.seq).toBe(1n);
    await journal.record('b', 2n, randomBytes(10));
    const again = await bed.open();
    expect([again.kept.get('a')?.seq, again.kept.get('b')?.seq, again.complete()]).toEqual([1n, 2n, true]);
  });

  it('(holds) has on disk every record that answered before a close, and takes none after it', async () => {
    const journal = await bed.open({ newLedger: true });
    const results = Array.from({ length: 20 }, (_, i) =>
      journal.record(`p${i}`, BigInt(i + 1), randomBytes(50)).then(
        () => true,
        () => false,
      ),
    );
    const closing = journal.close();
    const ok = await Promise.all(results);
    await closing;
    const again = await bed.open();
    expect(ok.filter(Boolean).length).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) if (ok[i]) expect(again.kept.get(`p${i}`)?.seq).toBe(BigInt(i + 1));
    await expect(journal.record('late', 1n, randomBytes(5))).rejects.toThrow(/closed/);
  });

  it('(holds) keeps the highest of one payer racing in one batch and across batches', async () => {
    const journal = await bed.open({ newLedger: true });
    await Promise.all([journal.record('a', 9n, randomBytes(10)), journal.record('a', 3n, randomBytes(10))]);
    await Promise.all([journal.record('a', 12n, randomBytes(10)), journal.record('a', 10n, randomBytes(10))]);
    expect(journal.kept.get('a')?.seq).toBe(12n);
    expect((await bed.open()).kept.get('a')?.seq).toBe(12n);
  });
});
