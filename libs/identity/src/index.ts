export { loadOrCreateIdentity, nodeIdOf, verifySignature, IdentityError, KEY_FILE } from './identity';
export type { NodeIdentity } from './identity';
