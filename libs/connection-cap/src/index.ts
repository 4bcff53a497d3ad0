/** A cap on a server's connections, a new one taking the place of the silent or idle longest (connection-cap.ts). */
export { createConnectionCap, MIN_IDLE_MS } from './connection-cap';
export type { CappedSocket, ConnectionCap } from './connection-cap';
