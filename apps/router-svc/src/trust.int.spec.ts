/**
 * The router's trust in other nodes on a real nats-server: a remote provider (its gateway a fake
 * that signs results with the provider's real key) gains trust with a verified task; a real fork
 * proof against it (two GENESIS blocks it signed at different times) makes it untrusted, is kept
 * in <data-dir>/router/fork-proofs, and still holds after a restart; forged proofs change nothing.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import { chainRules, createGenesis, encodeForkProof, verifyForkProof, verifyVoidBreachProof } from '@swarm/chain';
import {
  CreditRefund,
  CreditReserve,
  CreditSettle,
  ErrorCode,
  fromTensor,
  GatewayExecute,
  Provider,
  RegistryFindProviders,
  RouterHealth,
  RouterReportFork,
  RouterReportVoidBreach,
  RouterSubmit,
  RouterTrust,
  SignedBlock,
  SubmitTaskRequest,
  toTensor,
} from '@swarm/contracts';
import { seededRandom, systemTime } from '@swarm/determinism';
import { encodeTask, signResult } from '@swarm/records';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import type { Logger } from '@swarm/telemetry';
import { createLogger, silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, swarmErrorOf, tempDir } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadRouterConfig } from './config';
import type { RouterService } from './service';
import { startRouterService } from './service';
import { breachOf as breachAt, forkOf as forkAt, nodeKey } from './test-fixtures/proofs';

/** A serve ticket beside each signed result (its content is the provider's business; the length is checked). */
const SERVE_TICKET = new Uint8Array(32).fill(7);

jest.setTimeout(60_000);

const self = nodeKey();
const provider = nodeKey();
const stranger = nodeKey();
const RULES = chainRules();
const AT = Date.now() - 3_600_000;

const forkOf = (signer: Parameters<typeof forkAt>[0]) => forkAt(signer, AT);
const breachOf = (payer: Parameters<typeof breachAt>[0], payee: Parameters<typeof breachAt>[1]) => breachAt(payer, payee, AT);

/** credit-svc and registry-svc as fakes, and the gateway of one remote provider that answers with signed results. */
async function startFakes(nc: NatsConnection) {
  const state = { remoteCalls: 0 };
  const svc: BusService = await startBusService({ nc, log: silentLogger(), name: 'fakes', version: '0.0.0', description: 'fakes', nodeId: self.nodeId });
  svc.serve(CreditReserve, (r) => ({ escrowId: r.escrowId, available: 1_000_000n }));
  svc.serve(CreditSettle, (r) => ({ escrowId: r.escrowId, paid: r.payouts[0]?.amount ?? 0n, refunded: 0n }));
  svc.serve(CreditRefund, (r) => ({ escrowId: r.escrowId, refunded: 1n }));
  svc.serve(RegistryFindProviders, () => ({
    providers: [Provider.fromPartial({ nodeId: provider.nodeId, local: false, skills: ['vecadd'], endpoint: `${provider.nodeId}@127.0.0.1:7401`, load: 0.1, rttMs: 5 })],
  }));
  svc.serve(GatewayExecute, (req) => {
    state.remoteCalls += 1;
    const task = req.task!;
    const outputs = getSkill(task.skill)
      .reference(task.inputs.map(fromTensor))
      .map((t) => toTensor(t.name, t.shape, t.data));
    return signResult(
      encodeTask(task),
      { taskId: task.taskId, outputs, executorId: 'exec-remote', providerId: provider.nodeId, backend: 'cpu', executeMs: 1 },
      provider,
      SERVE_TICKET,
    );
  });
  return { state, stop: () => svc.stop(1_000) };
}

function vecadd(n: number): SubmitTaskRequest {
  const inputs = demoInputs('vecadd', n, seededRandom(n));
  return SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs, budget: priceOf('vecadd', inputs.map(fromTensor)), timeoutMs: 10_000 });
}

describe('router-svc - trust in other nodes, fork reports', () => {
  let server: NatsServerHandle;
  let routerNc: NatsConnection;
  let fakesNc: NatsConnection;
  let clientNc: NatsConnection;
  let client: BusClient;
  let fakes: Awaited<ReturnType<typeof startFakes>>;
  let router: RouterService | undefined;
  let home: TempDir;

  const startRouter = async (log: Logger = silentLogger()) => {
    const config = loadRouterConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: home.path, SWARM_GRACE_MS: '1000', SWARM_ROUTER_VERIFY_THREADS: '0' });
    router = await startRouterService({ config, log, nc: routerNc, nodeId: self.nodeId, ...systemTime, random: seededRandom(1) });
    await routerNc.flush();
  };
  const proofsDir = () => join(home.path, 'router', 'fork-proofs');
  const trustList = async () => (await client.request(RouterTrust, {})).nodes;

  beforeAll(async () => {
    server = await startNatsServer();
    [routerNc, fakesNc, clientNc] = await Promise.all([1, 2, 3].map(() => connect({ servers: server.url })));
    client = createBusClient(clientNc, silentLogger());
    fakes = await startFakes(fakesNc);
    home = await tempDir('swarm-router-trust-');
  });

  afterAll(async () => {
    await router?.stop();
    await fakes?.stop();
    await Promise.all([routerNc, fakesNc, clientNc].map((c) => c?.drain()));
    await server?.stop();
    await home?.remove();
  });

  it('trusts a provider a little more for a verified task, still after a restart; after a fork report never dispatches to it, even after a restart', async () => {
    await startRouter();
    // A new node gets work when it is the only provider, and its verified result earns it trust.
    await expect(client.request(RouterSubmit, vecadd(8), { timeoutMs: 15_000 })).resolves.toMatchObject({ providerId: provider.nodeId });
    expect(fakes.state.remoteCalls).toBe(1);
    expect(await trustList()).toEqual([{ nodeId: provider.nodeId, trust: expect.closeTo(0.1, 6), verified: 1n, rejected: 0n, unprovenFailures: 0n, untrusted: false }]);
    expect((await client.request(RouterHealth, {})).details).toMatchObject({ tasksFinished: '1', tasksSucceeded: '1', tasksNoProvider: '0', tasksFailed: '0' });
    // Kept across a restart (<data-dir>/router/trust.json): the new router starts from what the last one learnt.
    await router?.stop();
    await startRouter();
    expect(await trustList()).toEqual([{ nodeId: provider.nodeId, trust: expect.closeTo(0.1, 6), verified: 1n, rejected: 0n, unprovenFailures: 0n, untrusted: false }]);

    const proof = forkOf(provider);
    expect(await client.request(RouterReportFork, { proof })).toEqual({ nodeId: provider.nodeId, seq: 1n, alreadyKnown: false });
    expect(await client.request(RouterReportFork, { proof })).toEqual({ nodeId: provider.nodeId, seq: 1n, alreadyKnown: true });
    const file = join(proofsDir(), `${provider.nodeId}-1.forkproof`);
    expect(await readdir(proofsDir())).toEqual([`${provider.nodeId}-1.forkproof`]);
    expect(verifyForkProof(new Uint8Array(await readFile(file)))).toEqual({ nodeId: provider.nodeId, seq: 1n });
    expect(await trustList()).toEqual([{ nodeId: provider.nodeId, trust: 0, verified: 1n, rejected: 0n, unprovenFailures: 0n, untrusted: true }]);
    expect((await client.request(RouterHealth, {})).details).toMatchObject({ nodesTrusted: '0', nodesUntrusted: '1' });

    // Its only provider is untrusted: the task finds none, and nothing reaches the provider.
    expect(await swarmErrorOf(client.request(RouterSubmit, vecadd(8), { timeoutMs: 15_000 }))).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
    expect(fakes.state.remoteCalls).toBe(1);
    // Counted apart from the tasks that ran (this router's, since its restart): `swarm health` after the demo's NO_PROVIDER retries.
    expect((await client.request(RouterHealth, {})).details).toMatchObject({ tasksFinished: '1', tasksSucceeded: '0', tasksNoProvider: '1', tasksFailed: '0' });

    // A file among the proofs that is not one (altered, misnamed) is skipped at start, not trusted.
    await writeFile(join(proofsDir(), `${stranger.nodeId}-1.forkproof`), encodeForkProof(forkOf(provider)));
    await writeFile(join(proofsDir(), 'notes.txt'), 'hello');
    await router?.stop();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    await startRouter(createLogger({ service: 'router-svc', destination: sink }));
    expect(lines.filter((l) => l.includes('skipping a file among the kept fork proofs'))).toHaveLength(2);
    expect(lines.some((l) => l.includes('untrusted nodes restored from the kept fork and void breach proofs') && l.includes('"convicted":1') && l.includes('"skipped":2'))).toBe(
      true,
    );
    expect(await trustList()).toEqual([{ nodeId: provider.nodeId, trust: 0, verified: 0n, rejected: 0n, unprovenFailures: 0n, untrusted: true }]);
    expect(await swarmErrorOf(client.request(RouterSubmit, vecadd(8), { timeoutMs: 15_000 }))).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
    expect(fakes.state.remoteCalls).toBe(1);
    // Known from the kept proof.
    expect(await client.request(RouterReportFork, { proof })).toEqual({ nodeId: provider.nodeId, seq: 1n, alreadyKnown: true });
  });

  it('refuses a forged, incomplete or oversized proof, and one against this node itself, changing nothing', async () => {
    if (!router) await startRouter();
    const before = await trustList();
    const filesBefore = await readdir(proofsDir()).catch(() => []);
    const real = forkOf(stranger);
    const badSignature = { ...real, second: { ...real.second!, signature: Uint8Array.from(real.second!.signature).fill(7, 0, 8) } };
    const twoNodes = { first: real.first, second: forkOf(provider).second };
    const sameBlock = { first: real.first, second: real.first };
    for (const forged of [badSignature, twoNodes, sameBlock]) {
      expect(await swarmErrorOf(client.request(RouterReportFork, { proof: forged }))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
    }
    expect(await swarmErrorOf(client.request(RouterReportFork, { proof: { first: real.first } }))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
    expect(await swarmErrorOf(client.request(RouterReportFork, {}))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(await swarmErrorOf(client.request(RouterReportFork, { proof: forkOf(self) }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/convicts this node itself/),
    });
    // Two blocks bigger than any block may be: refused by size before anything is decoded.
    const huge = SignedBlock.fromPartial({ block: new Uint8Array(20_000), signature: new Uint8Array(64) });
    expect(await swarmErrorOf(client.request(RouterReportFork, { proof: { first: huge, second: huge } }))).toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });

    expect(await trustList()).toEqual(before);
    expect(await readdir(proofsDir()).catch(() => [])).toEqual(filesBefore);
    expect(before.some((n) => n.nodeId === stranger.nodeId || n.nodeId === self.nodeId)).toBe(false);
  });

  it('a void breach proof makes its payee untrusted for good and is kept; one that proves nothing changes nothing', async () => {
    if (!router) await startRouter();
    const payee = nodeKey();
    const proof = breachOf(self, payee);
    const { receiptId, receiptDigest } = verifyVoidBreachProof(proof);
    const breachDir = join(home.path, 'router', 'void-breach-proofs');
    // Refused first, changing nothing: the payer's signature of the void forged, a genesis for the block, none at all, one against this node.
    const before = await trustList();
    const forged = { ...proof, signedVoid: { ...proof.signedVoid!, payerSignature: new Uint8Array(64).fill(3) } };
    expect(await swarmErrorOf(client.request(RouterReportVoidBreach, { proof: forged }))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT });
    const genesisBlock = SignedBlock.decode(createGenesis(payee, RULES, AT).blocks[0]);
    expect(await swarmErrorOf(client.request(RouterReportVoidBreach, { proof: { ...proof, block: genesisBlock } }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      message: expect.stringMatching(/not-a-breach/),
    });
    expect(await swarmErrorOf(client.request(RouterReportVoidBreach, {}))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(await swarmErrorOf(client.request(RouterReportVoidBreach, { proof: breachOf(payee, self) }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/convicts this node itself/),
    });
    expect(await trustList()).toEqual(before);
    await expect(readdir(breachDir)).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await client.request(RouterReportVoidBreach, { proof })).toEqual({ nodeId: payee.nodeId, receiptId, alreadyKnown: false });
    expect(await client.request(RouterReportVoidBreach, { proof })).toEqual({ nodeId: payee.nodeId, receiptId, alreadyKnown: true });
    expect(await readdir(breachDir)).toEqual([`${payee.nodeId}-${receiptDigest}.voidbreach`]);
    expect((await trustList()).find((n) => n.nodeId === payee.nodeId)).toMatchObject({ untrusted: true, trust: 0 });
    // Still so after a restart, from the kept proof.
    await router?.stop();
    await startRouter();
    expect((await trustList()).find((n) => n.nodeId === payee.nodeId)).toMatchObject({ untrusted: true });
  });
});
