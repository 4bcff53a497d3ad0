import { userNkeyOfSeed } from '@swarm/identity';
import { nkeyAuthenticator, nkeys as untypedNkeys } from 'nats';
import { nativeNkeyAuthenticator } from './nkey-signer';

const nkeys = untypedNkeys as { createUser(): { getSeed(): Uint8Array } };

describe('native NKey authenticator', () => {
  it('answers every nonce exactly as nats.js would (Ed25519 is deterministic), with the same public key', () => {
    for (let i = 0; i < 3; i++) {
      const seed = nkeys.createUser().getSeed();
      const native = nativeNkeyAuthenticator(userNkeyOfSeed(new TextDecoder().decode(seed)));
      const reference = nkeyAuthenticator(seed);
      for (const nonce of ['', 'x', 'Fq2Z1k0rQ8yq3a', 'nonce with spaces ü']) expect(native(nonce)).toEqual(reference(nonce));
    }
  });
});
