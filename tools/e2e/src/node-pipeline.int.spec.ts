import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import type { LedgerEntry } from '@swarm/contracts';
import { EntryKind, ErrorCode, fromTensor, LedgerEntryEvents, RouterSubmit, SwarmErrorMessage, toTensor } from '@swarm/contracts';
import { createBusClient } from '@swarm/bus';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { waitFor } from '@swarm/testing';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';

describe('node - task pipeline end to end', () => {
  let node: InProcessNode;
  let client: SwarmClient;
  const entries: LedgerEntry[] = [];

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '500', SWARM_MAX_REQUEST_BYTES: String(4 * 1024 * 1024) });
    client = await connectSwarm(node.natsUrl);
    createBusClient(node.nc, silentLogger()).subscribe(LedgerEntryEvents, (e) => entries.push(e));
    await node.nc.flush();
  }, 30_000);

  afterAll(async () => {
    await client.close();
    await node.stop();
  });

  const submitDemo = (skill: string, size: number, budget?: bigint) => {
    const inputs = demoInputs(skill, size, seededRandom(size));
    return client.submit({ skill, inputs, budget: budget ?? priceOf(skill, inputs.map(fromTensor)), timeoutMs: 20_000 });
  };

  it.each([
    ['matmul', 64],
    ['vecadd', 1000],
    ['mlp', 16],
  ])('runs %s, verifies it and pays exactly its price', async (skill, size) => {
    const inputs = demoInputs(skill, size, seededRandom(size));
    const price = priceOf(skill, inputs.map(fromTensor));
    const before = entries.length;
    const res = await client.submit({ skill, inputs, budget: price + 5n, timeoutMs: 20_000 });
    expect(res.cost).toBe(price);
    expect(res.refunded).toBe(5n);
    expect(res.verification).toBe(getSkill(skill).verification);
    expect(res.providerId).toBe(node.nodeId);
    expect(res.timing?.totalMs).toBeGreaterThan(0);
    const want = getSkill(skill).reference(inputs.map(fromTensor))[0];
    const got = fromTensor(res.outputs[0]);
    expect(got.shape).toEqual(want?.shape);
    const worst = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - (want?.data[i] ?? NaN))), 0);
    expect(worst).toBeLessThan(1e-3);
    // Settle pays the price and returns the unused budget in one atomic step (two log entries).
    await waitFor(() => entries.length >= before + 3, { what: 'ledger entries' });
    const moves = entries
      .slice(before)
      .filter((e) => e.escrowId === res.taskId)
      .map((e) => [e.kind, e.amount]);
    expect(moves).toEqual([
      [EntryKind.ENTRY_KIND_RESERVE, price + 5n],
      [EntryKind.ENTRY_KIND_SETTLE, price],
      [EntryKind.ENTRY_KIND_REFUND, 5n],
    ]);
    const balance = await client.balance();
    expect(balance.escrowed).toBe(0n);
  });

  it('answers every bad submit with a typed error, moves no credit and keeps serving', async () => {
    const balance = await client.balance();
    const before = entries.length;
    const matmul = demoInputs('matmul', 8, seededRandom(1));
    const cases: Array<[string, () => Promise<unknown>, ErrorCode]> = [
      ['unknown skill', () => client.submit({ skill: 'teleport', inputs: matmul, budget: 10n }), ErrorCode.ERROR_CODE_UNKNOWN_SKILL],
      ['zero budget', () => client.submit({ skill: 'matmul', inputs: matmul, budget: 0n }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
      ['budget below price', () => submitDemo('matmul', 256, 1n), ErrorCode.ERROR_CODE_BUDGET_TOO_LOW],
      ['more than the balance', () => submitDemo('matmul', 256, 10_000n), ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT],
      [
        'wrong matrix shapes',
        () => client.submit({ skill: 'matmul', inputs: [toTensor('a', [2, 3], new Float32Array(6)), toTensor('b', [2, 3], new Float32Array(6))], budget: 10n }),
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      ],
      ['oversized request', () => submitDemo('vecadd', 1_000_000, 100n), ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE],
      [
        'another account',
        () => client.submit({ skill: 'vecadd', inputs: demoInputs('vecadd', 4, seededRandom(1)), budget: 1n, account: 'mallory' }),
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      ],
      [
        'client-chosen task id',
        () => client.submit({ skill: 'vecadd', inputs: demoInputs('vecadd', 4, seededRandom(1)), budget: 1n, taskId: 'task-replay' }),
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      ],
    ];
    for (const [name, run, code] of cases) {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ name, code: (err as { code?: unknown })?.code }).toEqual({ name, code });
    }
    const reply = await node.nc.request(RouterSubmit.subject, new Uint8Array([0x0a, 0xff, 0xff]), { timeout: 5_000 });
    expect(SwarmErrorMessage.decode(reply.data).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);

    await expect(submitDemo('vecadd', 8)).resolves.toMatchObject({ cost: 1n });
    const after = await client.balance();
    // The node paid itself for the one good task: net zero, one task reserved and its cost spent.
    expect(after).toEqual({ ...balance, spent: balance.spent + 1n, reserves: balance.reserves + 1n });
    const refused = entries.slice(before).filter((e) => e.kind !== EntryKind.ENTRY_KIND_RESERVE && e.kind !== EntryKind.ENTRY_KIND_SETTLE);
    expect(refused).toEqual([]);
  });

  // Two right answers, by whether the registry has heard the executor leave when the task comes (a
  // loaded CI run here saw the first): refused before any escrow, or the escrow made and refunded.
  it('says NO_PROVIDER when no executor runs, and refunds whatever escrow it made', async () => {
    await node.stopExecutor();
    const before = entries.length;
    const balance = await client.balance();
    const err = await submitDemo('vecadd', 8).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
    const after = await client.balance();
    if (after.reserves === balance.reserves) {
      expect(after).toEqual(balance);
      expect(entries.slice(before)).toEqual([]);
    } else {
      expect(after).toEqual({ ...balance, reserves: balance.reserves + 1n });
      await waitFor(() => entries.length >= before + 2, { what: 'the reserve and its refund' });
      expect(entries.slice(before).map((e) => e.kind)).toEqual([EntryKind.ENTRY_KIND_RESERVE, EntryKind.ENTRY_KIND_REFUND]);
    }
  });
});
