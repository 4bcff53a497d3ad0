import type { ServiceName } from '@swarm/contracts';
import { errorCodeName, HealthResponse } from '@swarm/contracts';
import { CliError } from '../cli-error';
import { readNodeFile } from '@swarm/node';
import type { SupervisionReport } from '@swarm/node';
import type { NodeTarget } from '../node-file';
import { connectToNode, resolveNodeHome } from '../node-file';
import { printGrid, printJson, protoJson } from '../output';

const SERVICES: ServiceName[] = ['router', 'credit', 'executor', 'registry', 'gateway', 'api'];
const HEALTH_TIMEOUT_MS = 1_000;

/** Health of each of the node's services; exits non-zero when any does not answer. */
export async function healthCommand(opts: NodeTarget & { json?: boolean }): Promise<void> {
  // As the observer: counting replicas uses `$SRV` discovery, an operator's right, not a client's.
  const client = await connectToNode(opts, 'observer');
  try {
    const rows = await Promise.all(
      SERVICES.map(async (service) => {
        try {
          // Counting replicas needs `$SRV` discovery (the observer key): with only a client key, unknown.
          const [h, instances] = await Promise.all([client.health(service, HEALTH_TIMEOUT_MS), client.instances(service).catch(() => undefined)]);
          return { service, status: h.status, instances: instances?.length, uptimeMs: Number(h.uptimeMs), details: h.details, health: h };
        } catch (err) {
          const code = (err as { code?: number }).code;
          // Only our codes reach the user, never a raw NATS error.
          return { service, status: 'down', error: typeof code === 'number' ? errorCodeName(code) : 'SWARM_UNAVAILABLE' };
        }
      }),
    );
    const supervision = await supervisionOf(opts, client.natsUrl);
    if (opts.json) printJson({ services: rows.map(healthJson), ...(supervision ? { supervision } : {}) });
    else {
      printGrid(
        ['service', 'status', 'instances', 'uptime', 'details (one instance)'],
        rows.map((r) => [
          r.service,
          r.status,
          'instances' in r ? (r.instances === undefined ? '?' : String(r.instances)) : '0',
          'uptimeMs' in r ? `${Math.round((r.uptimeMs ?? 0) / 1000)} s` : '',
          'details' in r
            ? Object.entries(r.details ?? {})
                .map(([k, v]) => `${k}=${v}`)
                // One per line: on one line they made the table some 270 columns wide.
                .join('\n')
            : (r.error ?? ''),
        ]),
      );
    }
    if (!opts.json && rows.some((r) => 'instances' in r && r.instances === undefined)) {
      process.stdout.write("instances ?: counting a service's instances needs the node's observer key ($SRV discovery); this bus key may not\n");
    }
    if (!opts.json && supervision) {
      printGrid(
        ['process', 'supervisor', 'restarts', 'last exit'],
        Object.entries(supervision).map(([name, p]) => [
          name,
          p.state === 'restarting' || p.state === 'crash-looping' ? `${p.state} (next try ${p.nextRestartAt ?? '?'})` : p.state,
          String(p.restarts),
          p.lastExit ? `${p.lastExit.signal ?? (p.lastExit.code === null ? 'killed' : `code ${p.lastExit.code}`)} at ${p.lastExit.at}` : '',
        ]),
      );
    }
    const down = rows.filter((r) => r.status !== 'ok').map((r) => r.service);
    const outage = Object.entries(supervision ?? {})
      .filter(([, p]) => p.state === 'stopped' || p.state === 'crash-looping')
      .map(([name, p]) => `${name} ${p.state}`);
    if (down.length > 0 || outage.length > 0)
      throw new CliError('SWARM_UNAVAILABLE', [down.length > 0 ? `not answering: ${down.join(', ')}` : '', ...outage].filter(Boolean).join('; '));
  } finally {
    await client.close();
  }
}

/** The launcher's record of restarts (node.json), when this is the node `swarm up` runs from the home. */
async function supervisionOf(opts: NodeTarget, natsUrl: string): Promise<SupervisionReport | undefined> {
  const node = await readNodeFile(resolveNodeHome(opts));
  return node && node.natsUrl === natsUrl ? node.supervision : undefined;
}

/**
 * One service's row in `--json`: the summary (`status` is "down" when it did not answer) and, when
 * it answered, its HealthResponse in the proto3 JSON mapping.
 */
function healthJson(row: { service: ServiceName; status: string; instances?: number; health?: HealthResponse; error?: string }) {
  return {
    service: row.service,
    status: row.status,
    ...(row.instances !== undefined ? { instances: row.instances } : {}),
    ...(row.health ? { health: protoJson(HealthResponse, row.health) } : {}),
    ...(row.error !== undefined ? { error: row.error } : {}),
  };
}
