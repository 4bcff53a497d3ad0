import { errorCodeName, ServiceName } from '@swarm/contracts';
import { CliError } from '../cli-error';
import { connectToNode } from '../node-file';
import { printGrid, printJson } from '../output';

const SERVICES: ServiceName[] = ['router', 'credit', 'executor', 'registry', 'gateway'];
const HEALTH_TIMEOUT_MS = 1_000;

/** Health of each of the node's services; exits non-zero when any does not answer. */
export async function healthCommand(opts: { nats?: string; dataDir?: string; json?: boolean }): Promise<void> {
  const client = await connectToNode(opts);
  try {
    const rows = await Promise.all(
      SERVICES.map(async (service) => {
        try {
          const [h, instances] = await Promise.all([client.health(service, HEALTH_TIMEOUT_MS), client.instances(service)]);
          return { service, status: h.status, instances: instances.length, uptimeMs: Number(h.uptimeMs), version: h.version, details: h.details };
        } catch (err) {
          const code = (err as { code?: number }).code;
          return { service, status: 'down', error: typeof code === 'number' ? errorCodeName(code) : String(err) };
        }
      }),
    );
    if (opts.json) printJson({ services: rows });
    else {
      printGrid(
        ['service', 'status', 'instances', 'uptime', 'details (one instance)'],
        rows.map((r) => [
          r.service,
          r.status,
          'instances' in r ? String(r.instances) : '0',
          'uptimeMs' in r ? `${Math.round((r.uptimeMs ?? 0) / 1000)} s` : '',
          'details' in r ? Object.entries(r.details ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') : (r.error ?? ''),
        ]),
      );
    }
    const down = rows.filter((r) => r.status !== 'ok').map((r) => r.service);
    if (down.length > 0) throw new CliError('SWARM_UNAVAILABLE', `not answering: ${down.join(', ')}`);
  } finally {
    await client.close();
  }
}
