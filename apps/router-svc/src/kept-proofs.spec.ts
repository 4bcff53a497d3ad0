import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeForkProof, encodeVoidBreachProof, verifyForkProof, verifyVoidBreachProof } from '@swarm/chain';
import { ErrorCode } from '@swarm/contracts';
import { createTrustBook } from '@swarm/scoring';
import { NO_TRACE, silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { swarmErrorOf, tempDir } from '@swarm/testing';
import { FORK_PROOFS, keepProof, loadProofs, VOID_BREACH_PROOFS } from './kept-proofs';
import { reportForkHandler, reportVoidBreachHandler, restoreConvictions, withoutUntrusted } from './router-trust';
import { breachOf as breachAt, forkOf as forkAt, nodeKey } from './test-fixtures/proofs';

const AT = 1_700_000_000_000;
const forkOf = (signer: Parameters<typeof forkAt>[0], later = 1_000) => forkAt(signer, AT, later);
const breachOf = (payer: Parameters<typeof breachAt>[0], payee: Parameters<typeof breachAt>[1], taskId = 'task-1') => breachAt(payer, payee, AT, taskId);

const ctx = { log: silentLogger(), headers: undefined, trace: NO_TRACE };

describe('router - kept proofs of misbehaviour', () => {
  const cheat = nodeKey();
  let home: TempDir;
  beforeEach(async () => {
    home = await tempDir('swarm-fork-proofs-');
  });
  afterEach(() => home.remove());

  it('keeps a proof once under <node id>-<seq>.forkproof; the same again is already kept, another proof of the fork is not kept', async () => {
    const dir = join(home.path, 'router', 'fork-proofs');
    const proof = forkOf(cheat);
    const evidence = verifyForkProof(proof);
    expect(await keepProof(FORK_PROOFS, dir, evidence, encodeForkProof(proof))).toBe('kept');
    expect(await keepProof(FORK_PROOFS, dir, evidence, encodeForkProof(proof))).toBe('already-kept');
    expect(await keepProof(FORK_PROOFS, dir, evidence, encodeForkProof(forkOf(cheat, 2_000)))).toBe('other-kept');
    expect(await readdir(dir)).toEqual([`${cheat.nodeId}-1.forkproof`]);
    expect(await loadProofs(FORK_PROOFS, dir, silentLogger(), 10)).toEqual({ convicted: [evidence], skipped: 0 });
  });

  it('keeps a void breach proof under <node id>-<receipt digest>.voidbreach, and restores the node it convicts with those of fork proofs', async () => {
    const payer = nodeKey();
    const dir = join(home.path, VOID_BREACH_PROOFS.dir);
    const proof = breachOf(payer, cheat);
    const evidence = verifyVoidBreachProof(proof);
    expect(await keepProof(VOID_BREACH_PROOFS, dir, evidence, encodeVoidBreachProof(proof))).toBe('kept');
    expect(await keepProof(VOID_BREACH_PROOFS, dir, evidence, encodeVoidBreachProof(proof))).toBe('already-kept');
    expect(await readdir(dir)).toEqual([`${cheat.nodeId}-${evidence.receiptDigest}.voidbreach`]);
    expect(await loadProofs(VOID_BREACH_PROOFS, dir, silentLogger(), 10)).toEqual({ convicted: [evidence], skipped: 0 });
    // A fork proof kept among the void breach proofs, under a void breach proof's name, proves nothing there.
    const forker = nodeKey();
    await writeFile(join(dir, `${forker.nodeId}-${'0'.repeat(64)}.voidbreach`), encodeForkProof(forkOf(forker)));
    const other = forkOf(nodeKey());
    await keepProof(FORK_PROOFS, join(home.path, FORK_PROOFS.dir), verifyForkProof(other), encodeForkProof(other));
    // A second proof against the same payee (another receipt): the cap counts nodes, not files.
    const again = breachOf(payer, cheat, 'task-2');
    await keepProof(VOID_BREACH_PROOFS, dir, verifyVoidBreachProof(again), encodeVoidBreachProof(again));
    expect((await loadProofs(VOID_BREACH_PROOFS, dir, silentLogger(), 1)).convicted).toHaveLength(2);
    // A proof against this node itself, copied in from elsewhere, is not applied here.
    const self = nodeKey();
    const mine = forkOf(self);
    await keepProof(FORK_PROOFS, join(home.path, FORK_PROOFS.dir), verifyForkProof(mine), encodeForkProof(mine));

    const book = createTrustBook();
    expect(await restoreConvictions(book, home.path, silentLogger(), self.nodeId)).toEqual({ convicted: 2, skipped: 2 });
    expect([cheat.nodeId, verifyForkProof(other).nodeId, forker.nodeId, payer.nodeId, self.nodeId].map((id) => book.isUntrusted(id))).toEqual([true, true, false, false, false]);
  });

  it('loads nothing from a folder that does not exist, removes temporary files, skips what is not a proof of its name, reads at most `max`', async () => {
    const dir = join(home.path, FORK_PROOFS.dir);
    expect(await loadProofs(FORK_PROOFS, join(home.path, 'none'), silentLogger(), 10)).toEqual({ convicted: [], skipped: 0 });
    const others = [nodeKey(), nodeKey()];
    for (const k of others) {
      const p = forkOf(k);
      await keepProof(FORK_PROOFS, dir, verifyForkProof(p), encodeForkProof(p));
    }
    await writeFile(join(dir, `${cheat.nodeId}-1.forkproof.123-abcdef01.tmp`), 'half');
    await writeFile(join(dir, `${cheat.nodeId}-2.forkproof`), encodeForkProof(forkOf(cheat)));
    await writeFile(join(dir, `${cheat.nodeId}-1.forkproof`), new Uint8Array(40_000));
    const loaded = await loadProofs(FORK_PROOFS, dir, silentLogger(), 10);
    expect(loaded.convicted.map((c) => c.nodeId).sort()).toEqual(others.map((k) => k.nodeId).sort());
    expect(loaded.skipped).toBe(2);
    expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect((await loadProofs(FORK_PROOFS, dir, silentLogger(), 1)).convicted).toHaveLength(1);

    const book = createTrustBook();
    expect(await restoreConvictions(book, home.path, silentLogger(), cheat.nodeId)).toEqual({ convicted: 2, skipped: 2 });
    expect(others.map((k) => book.isUntrusted(k.nodeId))).toEqual([true, true]);
    expect(book.isUntrusted(cheat.nodeId)).toBe(false);
  });

  it('marks the node untrusted even when its proof cannot be written, and says so with INTERNAL', async () => {
    // The router's folder is a file: neither kind of proof can be kept.
    await writeFile(join(home.path, 'router'), 'not a folder');
    const deps = { book: createTrustBook(), dataDir: home.path, nodeId: nodeKey().nodeId };
    const cantKeep = { code: ErrorCode.ERROR_CODE_INTERNAL, message: expect.stringMatching(/is untrusted until the router restarts, but its proof could not be kept/) };
    expect(await swarmErrorOf(Promise.resolve(reportForkHandler(deps)({ proof: forkOf(cheat) }, ctx)))).toMatchObject(cantKeep);
    expect(deps.book.isUntrusted(cheat.nodeId)).toBe(true);
    const breaker = nodeKey();
    expect(await swarmErrorOf(Promise.resolve(reportVoidBreachHandler(deps)({ proof: breachOf(cheat, breaker) }, ctx)))).toMatchObject(cantKeep);
    expect(deps.book.isUntrusted(breaker.nodeId)).toBe(true);
  });

  it('leaves untrusted providers out of every provider list', async () => {
    const book = createTrustBook();
    book.distrust('bad');
    const ports = withoutUntrusted(
      {
        findProviders: () =>
          Promise.resolve([
            { nodeId: 'bad', local: false },
            { nodeId: 'good', local: false },
          ]),
      } as unknown as Parameters<typeof withoutUntrusted>[0],
      book,
    );
    expect(await ports.findProviders('vecadd', new AbortController().signal)).toEqual([{ nodeId: 'good', local: false }]);
  });
});
