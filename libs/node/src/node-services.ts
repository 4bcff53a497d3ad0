/**
 * The node's services in start order — the one place it is written. credit-svc first (it creates the
 * ledger the router settles into); gateway-svc before registry-svc (the registry asks the gateway for
 * the node's advertised address and has it sign the node's records with the node key); router-svc,
 * the task intake, then api-svc, the agents' HTTP door onto it. Stop order is the reverse, so
 * intake closes first (agents' HTTP, then the bus intake), the registry stops publishing before the
 * gateway closes its door, and the ledger closes after the last settlement.
 * The launcher, the in-process test node and the flood measurement all read this list.
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
  { app: 'gateway-svc', role: 'gateway' },
  { app: 'registry-svc', role: 'registry' },
  { app: 'executor-svc', role: 'executor' },
  { app: 'router-svc', role: 'router' },
  { app: 'api-svc', role: 'api' },
] as const satisfies readonly NodeService[];

export type NodeServiceApp = (typeof NODE_SERVICES)[number]['app'];
