/**
 * nats-server's `authorization` block for a closed bus: one NKey user per role with exactly the
 * permissions of BUS_PERMISSIONS (libs/contracts). With any user listed, nats-server refuses
 * connections without a known key (AUTHORIZATION_VIOLATION) and refuses publishes and
 * subscriptions outside a user's lists (PERMISSIONS_VIOLATION), so the table is the bus's policy.
 */
import type { BusPermissions, BusRole } from '@swarm/contracts';
import { BUS_PERMISSIONS, BUS_ROLES } from '@swarm/contracts';
import { busKeyFile, loadOrCreateBusKeys } from '@swarm/identity';

export interface BusUser {
  /** Public NKey (U…). */
  readonly nkey: string;
  readonly permissions: BusPermissions;
}

const NKEY = /^U[A-Z2-7]{55}$/;

/** The config text; values are JSON strings, which nats-server's config format reads as-is. */
export function renderAuthorization(users: readonly BusUser[]): string {
  const entries = users.map((u) => {
    if (!NKEY.test(u.nkey)) throw new RangeError(`not a public NKey: ${u.nkey.slice(0, 8)}…`);
    return {
      nkey: u.nkey,
      permissions: {
        // Replies are publish rights on the askers' inboxes, never allow_responses (bus-roles.ts says why).
        publish: { allow: [...u.permissions.publish, ...u.permissions.replies] },
        subscribe: { allow: [...u.permissions.subscribe] },
      },
    };
  });
  // An empty allow list means "allow nothing" to nats-server only when the key is present.
  return `authorization {\n  users = ${JSON.stringify(entries, null, 2).replace(/\n/g, '\n  ')}\n}\n`;
}

/** Creates (or loads) every role's key under `dataDir` and returns the authorization block. */
export async function prepareClosedBus(dataDir: string): Promise<{ authorization: string; seedFile: (role: BusRole) => string }> {
  const keys = await loadOrCreateBusKeys(dataDir, BUS_ROLES);
  const users = keys.map((k) => ({ nkey: k.publicKey, permissions: BUS_PERMISSIONS[k.role as BusRole] }));
  return { authorization: renderAuthorization(users), seedFile: (role) => busKeyFile(dataDir, role) };
}
