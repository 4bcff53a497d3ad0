export { loadOrCreateIdentity, nodeIdOf, verifySignature, IdentityError, KEY_FILE } from './identity';
export type { NodeIdentity } from './identity';
export { loadOrCreateBusKeys, readBusSeed, busKeyFile, BUS_KEY_DIR } from './bus-keys';
export type { BusKey } from './bus-keys';
