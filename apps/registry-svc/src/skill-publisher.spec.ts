import type { ListSkillsResponse, SignRecordRequest } from '@swarm/contracts';
import { SignedNodeRecord } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { MakeRecord } from '@swarm/dht';
import { silentLogger } from '@swarm/telemetry';
import type { SkillPublisher } from './skill-publisher';
import { FOUND_PROBE_INTERVAL_MS, RECORD_SKILL_VERSION, SEARCH_PROBE_INTERVAL_MS, startSkillPublisher, UNKNOWN_BACKEND } from './skill-publisher';

const TTL_MS = 10 * 60 * 1000;
const NODE_KEY = `node/${'ab'.repeat(32)}`;

function skills(entries: Record<string, bigint>, backend = 'cpu'): ListSkillsResponse {
  return {
    skills: Object.entries(entries).map(([name, pricePerMwork]) => ({
      name,
      description: '',
      inputs: '',
      outputs: '',
      pricePerMwork,
      verification: '',
      verificationBound: '',
      verificationCost: '',
    })),
    backend,
  };
}

describe('skill publisher - installed skills on the DHT', () => {
  let vt: VirtualTime;
  let installed: ListSkillsResponse | undefined;
  let signRequests: SignRecordRequest[];
  let signFails: boolean;
  let provided: Map<string, MakeRecord>;
  let made: Uint8Array[];
  let withdrawn: string[];
  let publisher: SkillPublisher;

  function start(ttlMs = TTL_MS): void {
    publisher = startSkillPublisher({
      probe: async () => installed,
      sign: async (request) => {
        signRequests.push(request);
        if (signFails) throw new Error('gateway down');
        return { record: Uint8Array.from([signRequests.length]), signature: new Uint8Array(64) };
      },
      dht: {
        provide: async (key, makeRecord) => {
          provided.set(key, makeRecord);
          made.push(await makeRecord());
          return { stored: 1, storedRemotely: 0, refused: 0, unreachable: 0, messages: 0 };
        },
        withdraw: (key) => {
          provided.delete(key);
          withdrawn.push(key);
        },
      },
      nodeKey: NODE_KEY,
      capacity: 4,
      ttlMs,
      ...vt,
      log: silentLogger(),
    });
  }

  beforeEach(() => {
    vt = virtualTime(1_800_000_000_000);
    installed = undefined;
    signRequests = [];
    signFails = false;
    provided = new Map();
    made = [];
    withdrawn = [];
  });
  afterEach(() => publisher.stop());

  it('provides each installed skill and the node key with one signed record naming them all', async () => {
    installed = skills({ matmul: 3n, vecadd: 1n, 'Not A Skill': 9n }, 'webgpu');
    start();
    await vt.advance(0);
    expect([...provided.keys()]).toEqual(['matmul', 'vecadd', NODE_KEY]);
    expect(publisher.provided()).toEqual(['matmul', 'vecadd']);
    expect(publisher.nodeRecordProvided()).toBe(true);
    expect(signRequests).toEqual([
      {
        skills: [
          { name: 'matmul', version: RECORD_SKILL_VERSION, pricePerMwork: 3n },
          { name: 'vecadd', version: RECORD_SKILL_VERSION, pricePerMwork: 1n },
        ],
        capacity: 4,
        load: 0,
        resources: { backend: 'webgpu', threads: 4 },
        ttlMs: BigInt(TTL_MS),
      },
    ]);
    expect(made.map((m) => SignedNodeRecord.decode(m).record)).toEqual([Uint8Array.from([1]), Uint8Array.from([1]), Uint8Array.from([1])]);
    // A republish later asks for a fresh record.
    await vt.advance(5_000);
    await provided.get('matmul')?.();
    expect(signRequests).toHaveLength(2);
  });

  it('probes often until executors answer, then less often, withdrawing what they no longer run', async () => {
    start();
    await vt.advance(SEARCH_PROBE_INTERVAL_MS - 1);
    expect(provided.size).toBe(0);
    installed = skills({ matmul: 3n, vecadd: 1n }, 'no such backend!');
    await vt.advance(1);
    expect([...provided.keys()]).toEqual(['matmul', 'vecadd', NODE_KEY]);
    expect(signRequests[0].resources?.backend).toBe(UNKNOWN_BACKEND);
    installed = skills({ matmul: 5n });
    await vt.advance(FOUND_PROBE_INTERVAL_MS - 1);
    expect(withdrawn).toEqual([]);
    await vt.advance(1);
    expect(withdrawn).toEqual(['vecadd']);
    expect([...provided.keys()]).toEqual(['matmul', NODE_KEY]);
    expect(signRequests.at(-1)?.skills).toEqual([{ name: 'matmul', version: RECORD_SKILL_VERSION, pricePerMwork: 5n }]);
  });

  it('keeps what it published while executors are too busy to answer, and re-provides nothing unchanged', async () => {
    installed = skills({ matmul: 3n });
    start();
    await vt.advance(0);
    installed = undefined;
    await vt.advance(FOUND_PROBE_INTERVAL_MS);
    installed = skills({ matmul: 3n });
    await vt.advance(FOUND_PROBE_INTERVAL_MS);
    expect(withdrawn).toEqual([]);
    expect(made).toHaveLength(2);
  });

  it('withdraws a skill whose record could not be signed, and provides it again next round', async () => {
    installed = skills({ matmul: 3n });
    signFails = true;
    start();
    await vt.advance(0);
    expect(provided.size).toBe(0);
    expect(withdrawn).toEqual(['matmul', NODE_KEY]);
    expect(publisher.nodeRecordProvided()).toBe(false);
    signFails = false;
    await vt.advance(SEARCH_PROBE_INTERVAL_MS);
    expect([...provided.keys()]).toEqual(['matmul', NODE_KEY]);
    expect(publisher.nodeRecordProvided()).toBe(true);
  });

  it('probes at least every half record lifetime', async () => {
    installed = skills({ matmul: 3n });
    start(4_000);
    await vt.advance(0);
    installed = skills({});
    await vt.advance(2_000);
    expect(withdrawn).toEqual(['matmul']);
    expect([...provided.keys()]).toEqual([NODE_KEY]);
  });

  it('provides the node record under the node key with no skills at all (a node that only submits tasks)', async () => {
    installed = skills({});
    start();
    await vt.advance(0);
    expect([...provided.keys()]).toEqual([NODE_KEY]);
    expect(publisher.provided()).toEqual([]);
    expect(publisher.nodeRecordProvided()).toBe(true);
    expect(signRequests).toEqual([expect.objectContaining({ skills: [], resources: { backend: 'cpu', threads: 4 } })]);
  });
});
