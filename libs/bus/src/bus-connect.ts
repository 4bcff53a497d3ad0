/**
 * How a process joins a closed bus: the NKey of its role (seed file) and the role's own inbox
 * prefix, the only reply subjects its permissions let it read (see libs/contracts bus-roles).
 */
import type { BusRole } from '@swarm/contracts';
import { inboxPrefixOf } from '@swarm/contracts';
import { readBusSeed } from '@swarm/identity';
import type { ConnectionOptions } from 'nats';
import { nativeNkeyAuthenticator } from './nkey-signer';

/**
 * Options every connection of ours shares. `noAsyncTraces`: otherwise nats.js captures a stack
 * (`new Error()`) on every request and subscription just to append it to a later error — 15% of
 * the router's busy time. We never read those stacks: translateNatsError maps errors by `code`,
 * and the SwarmError it makes has its own stack from where we handle the failure.
 */
const SHARED_OPTIONS: Partial<ConnectionOptions> = { noAsyncTraces: true };

/** Connection options for `role`; without a seed file, no identity (an open bus: tests, a bare nats-server). */
export async function busConnectOptions(role: BusRole, seedFile: string | undefined): Promise<Partial<ConnectionOptions>> {
  if (!seedFile) return { ...SHARED_OPTIONS };
  return { ...SHARED_OPTIONS, authenticator: nativeNkeyAuthenticator(await readBusSeed(seedFile)), inboxPrefix: inboxPrefixOf(role) };
}
