import { BUS_PERMISSIONS, BUS_ROLES, CreditStanding } from './index';

describe('bus roles - contribution standing', () => {
  it('lets only gateway-svc ask credit-svc for a peer’s standing', () => {
    const askers = BUS_ROLES.filter((role) => BUS_PERMISSIONS[role].publish.some((subject) => subject === CreditStanding.subject || subject === 'swarm.v1.credit.>'));
    expect(askers).toEqual(['gateway']);
  });
});
