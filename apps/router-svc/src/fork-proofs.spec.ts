import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainSigner } from '@swarm/chain';
import { chainRules, createGenesis, encodeForkProof, forkProofOf, verifyForkProof } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import { nodeIdOfKey } from '@swarm/records';
import { createTrustBook } from '@swarm/scoring';
import { NO_TRACE, silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { swarmErrorOf, tempDir } from '@swarm/testing';
import { keepForkProof, loadForkProofs } from './fork-proofs';
import { reportForkHandler, restoreConvictions, withoutUntrusted } from './router-trust';

function nodeKey(): ChainSigner & { nodeId: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)) };
}

const AT = 1_700_000_000_000;
/** A fork at seq 1; `later` picks which second GENESIS (so two different proofs of one fork). */
function forkOf(signer: ChainSigner, later = 1_000): ForkProof {
  return forkProofOf(createGenesis(signer, chainRules(), AT).blocks[0], createGenesis(signer, chainRules(), AT + later).blocks[0]) as ForkProof;
}

const ctx = { log: silentLogger(), headers: undefined, trace: NO_TRACE };

describe('router - kept fork proofs', () => {
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
    expect(await keepForkProof(dir, evidence, encodeForkProof(proof))).toBe('kept');
    expect(await keepForkProof(dir, evidence, encodeForkProof(proof))).toBe('already-kept');
    expect(await keepForkProof(dir, evidence, encodeForkProof(forkOf(cheat, 2_000)))).toBe('other-kept');
    expect(await readdir(dir)).toEqual([`${cheat.nodeId}-1.forkproof`]);
    expect(await loadForkProofs(dir, silentLogger(), 10)).toEqual({ convicted: [evidence], skipped: 0 });
  });

  it('loads nothing from a folder that does not exist, removes temporary files, skips what is not a proof of its name, reads at most `max`', async () => {
    expect(await loadForkProofs(join(home.path, 'none'), silentLogger(), 10)).toEqual({ convicted: [], skipped: 0 });
    const others = [nodeKey(), nodeKey()];
    for (const k of others) {
      const p = forkOf(k);
      await keepForkProof(home.path, verifyForkProof(p), encodeForkProof(p));
    }
    await writeFile(join(home.path, `${cheat.nodeId}-1.forkproof.123-abcdef01.tmp`), 'half');
    await writeFile(join(home.path, `${cheat.nodeId}-2.forkproof`), encodeForkProof(forkOf(cheat)));
    await writeFile(join(home.path, `${cheat.nodeId}-1.forkproof`), new Uint8Array(40_000));
    const loaded = await loadForkProofs(home.path, silentLogger(), 10);
    expect(loaded.convicted.map((c) => c.nodeId).sort()).toEqual(others.map((k) => k.nodeId).sort());
    expect(loaded.skipped).toBe(2);
    expect((await readdir(home.path)).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect((await loadForkProofs(home.path, silentLogger(), 1)).convicted).toHaveLength(1);

    const book = createTrustBook();
    expect(await restoreConvictions(book, home.path, silentLogger())).toEqual({ convicted: 2, skipped: 2 });
    expect(others.map((k) => book.isUntrusted(k.nodeId))).toEqual([true, true]);
    expect(book.isUntrusted(cheat.nodeId)).toBe(false);
  });

  it('marks the node untrusted even when its proof cannot be written, and says so with INTERNAL', async () => {
    const blocker = join(home.path, 'file');
    await writeFile(blocker, 'not a folder');
    const book = createTrustBook();
    const report = reportForkHandler({ book, dir: join(blocker, 'fork-proofs'), nodeId: nodeKey().nodeId });
    const err = await swarmErrorOf(Promise.resolve(report({ proof: forkOf(cheat) }, ctx)));
    expect(err).toMatchObject({
      code: ErrorCode.ERROR_CODE_INTERNAL,
      message: expect.stringMatching(/is untrusted until the router restarts, but its fork proof could not be kept/),
    });
    expect(book.isUntrusted(cheat.nodeId)).toBe(true);
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
