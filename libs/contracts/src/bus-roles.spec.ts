import { BUS_PERMISSIONS, BUS_ROLES, CreditStanding, INBOX_ROOT } from './index';
import { subjectsOverlap } from './bus-roles';

describe('bus roles - contribution standing', () => {
  it('lets only gateway-svc ask credit-svc for a peer’s standing', () => {
    const askers = BUS_ROLES.filter((role) => BUS_PERMISSIONS[role].publish.some((subject) => subject === CreditStanding.subject || subject === 'swarm.v1.credit.>'));
    expect(askers).toEqual(['gateway']);
  });
});

describe('bus roles - where services answer', () => {
  it('matches NATS subject patterns token by token, `>` taking one or more tokens', () => {
    const cases: [string, string, boolean][] = [
      ['a.b', 'a.b', true],
      ['a.b', 'a.c', false],
      ['a.*', 'a.b', true],
      ['a.*', 'a.b.c', false],
      ['a.>', 'a.b.c', true],
      ['a.>', 'a', false],
      ['$SRV.PING.>', '$SRV.*.executor-svc', true],
      ['$SRV.PING.>', '$SRV.PING', false],
      ['swarm.v1.credit.>', 'swarm.v1.credit.balance', true],
    ];
    for (const [a, b, overlap] of cases) expect([a, b, subjectsOverlap(a, b), subjectsOverlap(b, a)]).toEqual([a, b, overlap, overlap]);
  });

  it('lets a service answer only in the inboxes of the roles that may ask it something, and roles that serve nothing answer nowhere', () => {
    const replies = Object.fromEntries(BUS_ROLES.map((role) => [role, BUS_PERMISSIONS[role].replies.map((r) => r.replace(/^_INBOX_(\w+)\.>$/, '$1'))]));
    expect(replies).toEqual({
      credit: ['gateway', 'router', 'api', 'client', 'observer', 'probe'],
      registry: ['credit', 'gateway', 'router', 'api', 'client', 'observer', 'probe'],
      gateway: ['credit', 'registry', 'router', 'client', 'observer', 'probe'],
      executor: ['registry', 'gateway', 'router', 'api', 'client', 'observer', 'probe'],
      router: ['credit', 'api', 'client', 'observer', 'probe'],
      api: ['client', 'observer', 'probe'],
      client: [],
      observer: [],
      probe: [],
    });
    // Every reply right is an inbox: no subject a requester names (`swarm.v1.credit.settle`, say) is one.
    for (const role of BUS_ROLES) for (const r of BUS_PERMISSIONS[role].replies) expect(r).toMatch(new RegExp(`^${INBOX_ROOT}_[a-z]+\\.>$`));
  });
});
