#!/usr/bin/env node
// Docker healthcheck of one SwarmHarness service container (docker-compose.yml): healthy when the
// service named by SWARM_APP answers its health subject on the node's bus within PROBE_TIMEOUT_MS.
// Plain JavaScript with only `nats`, because Docker runs it every interval: through tsx and the
// contracts it would cost a second of CPU per probe. compose-healthcheck.int.spec.ts holds the
// subjects and the error header to libs/contracts and libs/bus, and runs it against a real node.
// For executor-svc (replicas in one queue group) any replica's answer counts: it says the
// executor service is serving, which is what `depends_on: service_healthy` waits for.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { connect, nkeyAuthenticator } = require('nats');

const PROBE_TIMEOUT_MS = 2_000;
/** libs/bus SWARM_ERROR_HEADER: present on every error reply. */
const SWARM_ERROR_HEADER = 'swarm-error';
const SERVICES = ['router', 'credit', 'executor', 'registry', 'gateway', 'api'];
/**
 * The probe's own identity (libs/contracts bus-roles: may ask health and nothing else). bus-init
 * puts its key beside the service's own in each service's key volume, so a service container
 * holds no key that can watch the ledger (the observer's) or move credit.
 */
const PROBE_ROLE = 'probe';

/** `credit-svc` -> `swarm.v1.credit.health` (the subject scheme of libs/contracts/src/subjects.ts). */
function healthSubject(app) {
  const service = /^([a-z]+)-svc$/.exec(app ?? '')?.[1];
  if (!service || !SERVICES.includes(service)) throw new Error(`SWARM_APP must name a service (${SERVICES.map((s) => `${s}-svc`).join(', ')}), got '${app ?? ''}'`);
  return `swarm.v1.${service}.health`;
}

/** The probe key in the container's data dir, and the role's own inbox prefix; none on an open bus. */
function busAuth(env) {
  const seedFile = join(env.SWARM_DATA_DIR ?? '/data', 'bus', `${PROBE_ROLE}.nk`);
  if (!existsSync(seedFile)) return {};
  const seed = new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim());
  return { authenticator: nkeyAuthenticator(seed), inboxPrefix: `_INBOX_${PROBE_ROLE}` };
}

async function probe(env) {
  const subject = healthSubject(env.SWARM_APP);
  const nc = await connect({ servers: env.SWARM_NATS_URL, name: `healthcheck:${env.SWARM_APP}`, timeout: PROBE_TIMEOUT_MS, maxReconnectAttempts: 0, ...busAuth(env) });
  try {
    const reply = await nc.request(subject, new Uint8Array(), { timeout: PROBE_TIMEOUT_MS });
    if (reply.headers?.has(SWARM_ERROR_HEADER)) throw new Error(`${subject} answered an error`);
  } finally {
    await nc.close();
  }
}

if (require.main === module) {
  probe(process.env).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`unhealthy: ${err.message}\n`);
      process.exit(1);
    },
  );
}

module.exports = { healthSubject, busAuth, probe, SWARM_ERROR_HEADER, PROBE_TIMEOUT_MS, PROBE_ROLE };
