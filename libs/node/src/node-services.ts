/**
 * The node's services in start order — the one place it is written. credit-svc first (it creates the
 * ledger the router settles into), router-svc, the task intake, last; stop order is the reverse, so
 * intake closes first and the ledger closes after the last settlement. The launcher, the in-process
 * test node and the flood measurement all read this list.
 */
import type { ServiceName } from '@swarm/contracts';

export interface NodeService {
  /** The app under apps/ (its process and log name). */
  readonly app: `${ServiceName}-svc`;
  /** Its health subject and its bus identity. */
  readonly role: ServiceName;
}

export const NODE_SERVICES = [
  { app: 'credit-svc', role: 'credit' },
  { app: 'registry-svc', role: 'registry' },
  { app: 'gateway-svc', role: 'gateway' },
  { app: 'executor-svc', role: 'executor' },
  { app: 'router-svc', role: 'router' },
] as const satisfies readonly NodeService[];

export type NodeServiceApp = (typeof NODE_SERVICES)[number]['app'];
