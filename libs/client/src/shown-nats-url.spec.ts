import { shownNatsUrl } from './swarm-client';

describe('a NATS URL as an error shows it', () => {
  it('leaves out a user and password, in each server of a list, and nothing else', () => {
    expect(shownNatsUrl('nats://user:secret@127.0.0.1:4222')).toBe('nats://…@127.0.0.1:4222');
    expect(shownNatsUrl('u:p@h:1,nats://a:b@c:2')).toBe('…@h:1,nats://…@c:2');
    expect(shownNatsUrl('tls://host.example:4222,127.0.0.1:4222')).toBe('tls://host.example:4222,127.0.0.1:4222');
  });
});
