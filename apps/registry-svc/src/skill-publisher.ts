/**
 * Publishes this node's skills on the DHT: each installed skill is a key under which the node's
 * signed NodeRecord is provided (the DHT republishes it before it expires, asking for a fresh record
 * each time). The executors are probed again and again: often while none answer (a node whose
 * executors start after the registry), less often once they do, and never less often than records
 * are republished, so a changed set of skills shows within one republish. A skill no executor runs
 * any more is withdrawn: its record lapses at its expiry. The same record is also provided under the
 * node's own key (provider-record.ts nodeRecordKey), with or without skills: a node that only
 * submits tasks needs it too, for providers run a peer's task only when its record is found there.
 */
import type { ListSkillsResponse, RecordSkill, SignRecordRequest } from '@swarm/contracts';
import { isSkillName, SignedNodeRecord } from '@swarm/contracts';
import type { CancelTimer, Scheduler, Stopwatch } from '@swarm/determinism';
import type { DhtNode, MakeRecord } from '@swarm/dht';
import { MAX_SKILLS } from '@swarm/records';
import type { Logger } from '@swarm/telemetry';

/** SkillInfo carries no version yet; every node runs the one version of the catalog. */
export const RECORD_SKILL_VERSION = '1';
/** What a record says when the executors name no usable backend. */
export const UNKNOWN_BACKEND = 'unknown';
/** Probe interval while no executor has answered with skills. */
export const SEARCH_PROBE_INTERVAL_MS = 5_000;
/** Probe interval once skills are published. */
export const FOUND_PROBE_INTERVAL_MS = 30_000;
/** Records made within this are reused: publishing N skills at once asks for one signature. */
export const SIGNED_RECORD_REUSE_MS = 1_000;
/** Same pattern as libs/records' backend names. */
const BACKEND_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export interface SkillPublisherDeps {
  /** The executors' installed skills; undefined when they did not answer in time (busy): what is published stays. */
  probe(): Promise<ListSkillsResponse | undefined>;
  /** This node's gateway signs a record with the node key. */
  sign(request: SignRecordRequest): Promise<SignedNodeRecord>;
  readonly dht: Pick<DhtNode, 'provide' | 'withdraw'>;
  /** The DHT key of this node's own record, `node/<node id>`. */
  readonly nodeKey: string;
  readonly capacity: number;
  readonly ttlMs: number;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Scheduler;
  readonly log: Logger;
}

export interface SkillPublisher {
  /** Skills whose record is on the DHT now. */
  provided(): readonly string[];
  /** Whether the record is on the DHT under the node's own key now. */
  nodeRecordProvided(): boolean;
  stop(): void;
}

interface Installed {
  readonly skills: readonly RecordSkill[];
  readonly backend: string;
  /** Identifies this set of skills, prices and backend. */
  readonly key: string;
}

function installedOf(res: ListSkillsResponse): Installed {
  const seen = new Set<string>();
  const skills: RecordSkill[] = [];
  for (const s of res.skills) {
    if (!isSkillName(s.name) || seen.has(s.name) || skills.length >= MAX_SKILLS) continue;
    seen.add(s.name);
    skills.push({ name: s.name, version: RECORD_SKILL_VERSION, pricePerMwork: s.pricePerMwork });
  }
  const backend = BACKEND_NAME.test(res.backend) ? res.backend : UNKNOWN_BACKEND;
  return { skills, backend, key: JSON.stringify([backend, ...skills.map((s) => `${s.name}:${s.pricePerMwork}`)]) };
}

export function startSkillPublisher(deps: SkillPublisherDeps): SkillPublisher {
  const { dht, stopwatch, scheduler, log } = deps;
  const provided = new Set<string>();
  let nodeRecordProvided = false;
  let installed: Installed = { skills: [], backend: UNKNOWN_BACKEND, key: '' };
  /** The installed set as last published in full; undefined: publish again next round. */
  let publishedKey: string | undefined;
  let signed: { readonly key: string; readonly atMs: number; readonly bytes: Uint8Array } | undefined;
  let signing: { readonly key: string; readonly bytes: Promise<Uint8Array> } | undefined;
  let lastFailure = '';
  let timer: CancelTimer = () => undefined;
  let stopped = false;

  const makeRecord: MakeRecord = () => {
    const { key } = installed;
    if (signed?.key === key && stopwatch.now() - signed.atMs < SIGNED_RECORD_REUSE_MS) return signed.bytes;
    if (signing?.key === key) return signing.bytes;
    const request: SignRecordRequest = {
      skills: [...installed.skills],
      capacity: deps.capacity,
      // No load measure yet: the router treats load as a hint (issue 13 leaves it at 0).
      load: 0,
      resources: { backend: installed.backend, threads: deps.capacity },
      ttlMs: BigInt(deps.ttlMs),
    };
    const bytes = deps.sign(request).then((r) => SignedNodeRecord.encode(r).finish());
    const attempt = { key, bytes };
    signing = attempt;
    void bytes.then(
      (b) => {
        if (signing === attempt) signed = { key, atMs: stopwatch.now(), bytes: b };
        if (signing === attempt) signing = undefined;
      },
      () => {
        if (signing === attempt) signing = undefined;
        // The DHT stops republishing a key whose record could not be made: the next round provides it again.
        publishedKey = undefined;
      },
    );
    return bytes;
  };

  async function publish(next: Installed): Promise<void> {
    installed = next;
    const wanted = new Set(next.skills.map((s) => s.name));
    for (const name of [...provided]) {
      if (wanted.has(name)) continue;
      dht.withdraw(name);
      provided.delete(name);
    }
    // The node key goes out with every set of skills (none included): its record must say what the node runs now.
    const keys = [...next.skills.map((s) => s.name), deps.nodeKey];
    const results = await Promise.allSettled(keys.map(async (key) => dht.provide(key, makeRecord)));
    const failures: string[] = [];
    results.forEach((r, i) => {
      const key = keys[i];
      const ok = r.status === 'fulfilled';
      if (key === deps.nodeKey) nodeRecordProvided = ok;
      else if (ok) provided.add(key);
      else provided.delete(key);
      if (ok) return;
      // Not republished on a timer that may never succeed: the next round provides it again.
      dht.withdraw(key);
      failures.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
    });
    publishedKey = failures.length === 0 ? next.key : undefined;
    const failure = failures[0] ?? '';
    // Once per distinct problem: a gateway that is down fails every round the same way.
    if (failure && failure !== lastFailure) log.warn({ keys: failures.length, err: failure.slice(0, 300) }, 'could not publish the node record on the DHT; retrying');
    lastFailure = failure;
  }

  async function round(): Promise<void> {
    const res = await deps.probe().catch(() => undefined);
    if (stopped || res === undefined) return;
    const next = installedOf(res);
    if (next.key !== publishedKey) await publish(next);
  }

  function schedule(): void {
    const interval = provided.size > 0 ? FOUND_PROBE_INTERVAL_MS : SEARCH_PROBE_INTERVAL_MS;
    // A probe at least every half record lifetime, so what the republished records say is current.
    timer = scheduler.setTimer(Math.min(interval, deps.ttlMs / 2), () => void run());
  }

  async function run(): Promise<void> {
    try {
      await round();
    } catch (err) {
      log.warn({ err }, 'skill publishing round failed');
    }
    if (!stopped) schedule();
  }

  void run();
  return {
    provided: () => [...provided],
    nodeRecordProvided: () => nodeRecordProvided,
    stop() {
      stopped = true;
      timer();
    },
  };
}
