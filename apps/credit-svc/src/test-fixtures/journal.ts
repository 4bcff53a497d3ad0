/**
 * For the journal's specs: each test gets a new temporary folder with a ledger folder in it, and
 * `open` opens the journal there as service.ts does; the journals a test opened are closed, its
 * spies restored and its folder removed after it.
 */
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishedJournal } from '../published-sightings';
import { openPublishedJournal, PUBLISHED_SIGHTINGS_FILE } from '../published-sightings';

export function journalPerTest(prefix: string) {
  const opened: PublishedJournal[] = [];
  const bed = {
    dir: '',
    ledger: '',
    path: '',
    vt: virtualTime(Date.UTC(2026, 11, 7)),
    async open(o: { newLedger?: boolean; keep?: (payer: string) => boolean } = {}): Promise<PublishedJournal> {
      const journal = await openPublishedJournal({ path: bed.path, clock: bed.vt.clock, log: silentLogger(), newLedger: o.newLedger ?? false, keep: o.keep ?? (() => true) });
      opened.push(journal);
      return journal;
    },
  };
  beforeEach(async () => {
    bed.dir = await mkdtemp(join(tmpdir(), prefix));
    bed.ledger = join(bed.dir, 'ledger');
    bed.path = join(bed.ledger, PUBLISHED_SIGHTINGS_FILE);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const journal of opened.splice(0)) await journal.close().catch(() => undefined);
    await rm(bed.dir, { recursive: true, force: true });
  });
  return bed;
}
