/**
 * How a process joins a closed bus: the NKey of its role (seed file) and the role's own inbox
 * prefix, the only reply subjects its permissions let it read (see libs/contracts bus-roles).
 */
import type { BusRole } from '@swarm/contracts';
import { inboxPrefixOf } from '@swarm/contracts';
import { readBusSeed } from '@swarm/identity';
import type { ConnectionOptions } from 'nats';
import { nkeyAuthenticator } from 'nats';

/** Connection options for `role`; without a seed file, none (an open bus: tests, a bare nats-server). */
export async function busConnectOptions(role: BusRole, seedFile: string | undefined): Promise<Partial<ConnectionOptions>> {
  if (!seedFile) return {};
  return { authenticator: nkeyAuthenticator(await readBusSeed(seedFile)), inboxPrefix: inboxPrefixOf(role) };
}
