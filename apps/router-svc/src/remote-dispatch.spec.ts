import type { BusClient } from '@swarm/bus';
import type { ExecuteRequest, ExecuteResponse, Provider, RemoteExecuteRequest, SignedExecuteResponse } from '@swarm/contracts';
import { ErrorCode, GatewayExecute, SwarmError, toTensor } from '@swarm/contracts';
import { encodeTask, nodeIdOfKey, signResult } from '@swarm/records';
import type { Candidate } from '@swarm/scoring';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { candidateOf, executeRemote, REMOTE_REPLY_SLACK_MS } from './remote-dispatch';

/** A serve ticket beside each signed result (its content is the provider's business; the length is checked). */
const SERVE_TICKET = new Uint8Array(32).fill(7);

/** An Ed25519 node key, as libs/identity's NodeIdentity signs. */
function nodeKey() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)) };
}

const provider = nodeKey();
const stranger = nodeKey();
const ENDPOINT = `${provider.nodeId}@127.0.0.1:7401`;

const task: ExecuteRequest = {
  taskId: 'task-1',
  skill: 'vecadd',
  inputs: [toTensor('a', [2], Float32Array.of(1, 2)), toTensor('b', [2], Float32Array.of(3, 4))],
  timeoutMs: 4_000,
};
const answer: ExecuteResponse = {
  taskId: 'task-1',
  outputs: [toTensor('c', [2], Float32Array.of(4, 6))],
  executorId: 'exec-9',
  providerId: provider.nodeId,
  backend: 'cpu',
  executeMs: 1,
};

/** A bus whose gateway answers GatewayExecute with `reply`, recording what it was asked. */
function gatewayBus(reply: (req: RemoteExecuteRequest) => SignedExecuteResponse | Promise<SignedExecuteResponse>) {
  const asked: Array<{ subject: string; peer: string; timeoutMs: number | undefined }> = [];
  const bus: BusClient = {
    request: async (rpc, req, opts) => {
      const r = req as RemoteExecuteRequest;
      asked.push({ subject: rpc.subject, peer: r.peer, timeoutMs: opts?.timeoutMs });
      return reply(r) as never;
    },
    requestAcked: () => Promise.reject(new Error('a remote task is not sent to the executors')),
    publish: () => undefined,
    subscribe: () => {
      throw new Error('not used');
    },
  };
  return { bus, asked };
}

const remote: Candidate = { nodeId: provider.nodeId, local: false, endpoint: ENDPOINT, load: 0.2, rttMs: 3 };
const signal = () => new AbortController().signal;

describe('router - remote candidates', () => {
  const base: Provider = {
    nodeId: provider.nodeId,
    local: false,
    skills: ['vecadd'],
    endpoint: ENDPOINT,
    load: 0.25,
    capacity: 4,
    pricePerMwork: 3n,
    rttMs: 12.5,
    expiresAtMs: 0n,
  };

  it('maps a remote provider’s advertised load, price and measured round trip', () => {
    expect(candidateOf(base)).toEqual({ nodeId: provider.nodeId, local: false, endpoint: ENDPOINT, load: 0.25, price: 3, rttMs: 12.5 });
    expect(candidateOf({ ...base, rttMs: 0 })).not.toHaveProperty('rttMs');
    expect(candidateOf({ ...base, local: true, endpoint: '' })).toEqual({ nodeId: provider.nodeId, local: true });
  });

  it('drops a remote provider whose endpoint is missing or pinned to another node id', () => {
    expect(candidateOf({ ...base, endpoint: '' })).toBeUndefined();
    expect(candidateOf({ ...base, endpoint: `${stranger.nodeId}@127.0.0.1:7401` })).toBeUndefined();
    expect(candidateOf({ ...base, nodeId: 'not-hex', endpoint: 'not-hex@127.0.0.1:1' })).toBeUndefined();
  });
});

describe('router - remote dispatch', () => {
  it('sends the task to the gateway with the task’s time plus slack, checks the signature and pays the provider’s id', async () => {
    const { bus, asked } = gatewayBus(() => signResult(encodeTask(task), answer, provider, SERVE_TICKET));
    await expect(executeRemote(bus, remote, task, signal())).resolves.toEqual({
      outputs: answer.outputs,
      providerId: provider.nodeId,
      executorId: 'exec-9',
      backend: 'cpu',
      // Named by the receipt that pays it, which carries the provider's serve ticket.
      providerKey: provider.publicKey,
      serveTicket: SERVE_TICKET,
    });
    expect(asked).toEqual([{ subject: GatewayExecute.subject, peer: ENDPOINT, timeoutMs: task.timeoutMs + REMOTE_REPLY_SLACK_MS }]);
  });

  it('carries on only a plain short executor id and backend from the peer, whatever it signed', async () => {
    const odd = { ...answer, executorId: 'exec\u001b]0;owned\u0007', backend: 'x'.repeat(65) };
    const { bus } = gatewayBus(() => signResult(encodeTask(task), odd, provider, SERVE_TICKET));
    const result = await executeRemote(bus, remote, task, signal());
    expect([result.executorId, result.backend]).toEqual(['(not shown: not a plain name)', '(not shown: not a plain name)']);
  });

  it('refuses, retryably, a result signed by another node, altered, or answering another request', async () => {
    const other = { ...task, taskId: 'task-2' };
    const forged = [
      signResult(encodeTask(task), answer, stranger, SERVE_TICKET),
      { ...signResult(encodeTask(task), answer, provider, SERVE_TICKET), response: new Uint8Array(8) },
      signResult(encodeTask(other), { ...answer, taskId: 'task-2' }, provider, SERVE_TICKET),
    ];
    for (const signed of forged) {
      const { bus } = gatewayBus(() => signed);
      await expect(executeRemote(bus, remote, task, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED, retryable: true });
    }
  });

  it('makes a peer’s refusal retryable, so the pipeline moves to the next candidate', async () => {
    const { bus } = gatewayBus(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'timeout_ms beyond this node’s limit');
    });
    await expect(executeRemote(bus, remote, task, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, retryable: true });
    const overloaded = gatewayBus(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true, { retryAfterMs: 300 });
    });
    await expect(executeRemote(overloaded.bus, remote, task, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryAfterMs: 300 });
  });

  it('refuses a remote candidate with no endpoint without asking the gateway', async () => {
    const { bus, asked } = gatewayBus(() => signResult(encodeTask(task), answer, provider, SERVE_TICKET));
    await expect(executeRemote(bus, { nodeId: provider.nodeId, local: false }, task, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, retryable: true });
    expect(asked).toEqual([]);
  });
});
