/**
 * The ports a node's gateway and agent API listened on last time, kept in its home
 * (`listen-ports.json`), so that a node started again comes back on them when they are free: an
 * agent's exported SWARM_API_URL and the addresses peers cached still reach it. Best effort: a file
 * missing, unreadable or damaged means no preference, and one that cannot be written is skipped.
 */
import { open, writeFile } from 'node:fs/promises';
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
    // At most one byte past the limit is read, whatever the file holds.
    const handle = await open(join(home, LISTEN_PORTS_FILE), 'r');
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0).finally(() => handle.close());
    if (bytesRead > MAX_FILE_BYTES) return {};
    const text = buffer.subarray(0, bytesRead).toString('utf8');
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
