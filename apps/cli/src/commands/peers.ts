import { ListPeersResponse } from '@swarm/contracts';
import type { PeerInfo } from '@swarm/contracts';
import { readNodeFile } from '@swarm/node';
import { agentClientFor } from '../agent-mode';
import { peersReply } from '../agent-replies';
import type { NodeTarget } from '../node-file';
import { connectToNode, resolveNodeHome } from '../node-file';
import { ms, printGrid, printJson, protoJson } from '../output';

/**
 * `swarm peers`: the peer nodes this node's registry knows on the DHT, closest first, asked with
 * the client key (RegistryPeers), or as an agent through the HTTP API (agent-mode.ts). Not
 * running: SWARM_NO_NODE, as every command.
 */
export async function peersCommand(opts: NodeTarget & { json?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { peers: r, natsUrl } = await listPeers(opts, env);
  if (opts.json) return printJson(protoJson(ListPeersResponse, r));
  if (natsUrl !== undefined) {
    const self = await readNodeFile(resolveNodeHome(opts, env));
    // node.json names this node only when it is the one the URL reaches (not a --nats elsewhere).
    if (self?.peerAddress && self.natsUrl === natsUrl) process.stdout.write(`this node: ${self.peerAddress}\n`);
  }
  if (r.peers.length === 0) {
    process.stdout.write('no peers known yet (a node with no seeds is alone until another node joins through it)\n');
    return;
  }
  printGrid(
    ['peer node id', 'gateway address', 'rtt', 'last seen'],
    r.peers.map((p) => [p.nodeId, p.address, p.rttMs > 0 ? ms(p.rttMs) : '-', lastSeen(p)]),
  );
}

/** The peers, and the bus URL they came from (none over the HTTP API: this node's own address is not known there). */
async function listPeers(opts: NodeTarget, env: NodeJS.ProcessEnv): Promise<{ peers: ListPeersResponse; natsUrl?: string }> {
  const agent = await agentClientFor(opts, env);
  if (agent) return { peers: peersReply(await agent.peers()) };
  const client = await connectToNode(opts, 'client', env);
  try {
    return { peers: await client.peers(), natsUrl: client.natsUrl };
  } finally {
    await client.close();
  }
}

function lastSeen(p: PeerInfo): string {
  const at = Number(p.lastSeenMs);
  return at > 0 ? new Date(at).toISOString() : 'never directly';
}
