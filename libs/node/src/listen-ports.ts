/**
 * The ports a node's gateway and agent API listened on last time, kept in its home
 * (`listen-ports.json`), so that a node started again comes back on them when they are free: an
 * agent's exported SWARM_API_URL and the addresses peers cached still reach it. Best effort: a file
 * missing, unreadable or damaged means no preference, and one that cannot be written is skipped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHostPort } from '@swarm/config';

export const LISTEN_PORTS_FILE = 'listen-ports.json';
/** The file is two small numbers; anything larger is not ours. */
const MAX_FILE_BYTES = 256;

export interface ListenPorts {
  readonly gateway?: number;
  readonly http?: number;
}

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65_535;

export async function readListenPorts(home: string): Promise<ListenPorts> {
  try {
    const text = await readFile(join(home, LISTEN_PORTS_FILE), 'utf8');
    if (text.length > MAX_FILE_BYTES) return {};
    const json = JSON.parse(text) as { gateway?: unknown; http?: unknown };
    return { ...(isPort(json.gateway) ? { gateway: json.gateway } : {}), ...(isPort(json.http) ? { http: json.http } : {}) };
  } catch {
    return {};
  }
}

/** Remembers the ports of the listen addresses given (host:port; port 0 or none is not remembered). */
export async function writeListenPorts(home: string, listen: { readonly gateway?: string; readonly http?: string }): Promise<void> {
  const portOf = (address: string | undefined) => {
    const port = address ? parseHostPort(address)?.port : undefined;
    return isPort(port) ? port : undefined;
  };
  const ports = { gateway: portOf(listen.gateway), http: portOf(listen.http) };
  try {
    await writeFile(join(home, LISTEN_PORTS_FILE), `${JSON.stringify(ports)}\n`);
  } catch {
    // A read-only home keeps no preference: the next start picks free ports, as before.
  }
}
