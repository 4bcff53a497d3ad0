export { loadOrCreateIdentity, nodeIdOf, verifySignature, IdentityError, KEY_FILE } from './identity';
export type { NodeIdentity } from './identity';
export { loadOrCreateNodeCertificate, nodeIdOfCertificate, CERT_FILE, CERT_LIFETIME_MS, CERT_RENEW_BEFORE_MS } from './node-certificate';
export type { NodeCertificate } from './node-certificate';
export { loadOrCreateBusKeys, readBusSeed, busKeyFile, BUS_KEY_DIR } from './bus-keys';
export { userNkeyOfSeed } from './nkey-native';
export type { UserNkey } from './nkey-native';
export type { BusKey } from './bus-keys';
export { loadOrCreatePowNonce, POW_FILE } from './pow-nonce';
