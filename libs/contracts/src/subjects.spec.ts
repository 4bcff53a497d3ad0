import { ALL_RPCS, ALL_SERVICE_DEFINITIONS, HEALTH_BY_SERVICE, RouterSubmit, SubmitTaskRequest, SubmitTaskResponse } from './index';

/** Every rpc of the proto service blocks, as `/swarm.v1.XService/Method` with its codecs. */
const protoMethods = ALL_SERVICE_DEFINITIONS.flatMap((service) =>
  Object.values(service.methods).map((m) => ({ method: `/${service.fullName}/${m.name}`, request: m.requestType, response: m.responseType })),
);

describe('subjects - the proto service blocks', () => {
  it('give every rpc exactly one subject and every subject an rpc', () => {
    const bySubjects = ALL_RPCS.map((r) => r.method).sort();
    expect(bySubjects).toEqual(protoMethods.map((m) => m.method).sort());
    expect(new Set(ALL_RPCS.map((r) => r.subject)).size).toBe(ALL_RPCS.length);
  });

  it("carry each rpc's own request and response types", () => {
    const mismatched = ALL_RPCS.filter((r) => {
      const m = protoMethods.find((p) => p.method === r.method);
      return m?.request !== r.request || m.response !== r.response;
    });
    expect(mismatched.map((r) => r.subject)).toEqual([]);
    expect(RouterSubmit).toMatchObject({ method: '/swarm.v1.RouterService/SubmitTask', request: SubmitTaskRequest, response: SubmitTaskResponse });
  });

  it('follow swarm.v1.<service>.<verb>, the service token naming the proto service', () => {
    const wrong = ALL_RPCS.filter((r) => {
      const [, service] = /^\/swarm\.v1\.(\w+)Service\//.exec(r.method) ?? [];
      return r.subject !== `swarm.v1.${r.service}.${r.endpoint}` || service?.toLowerCase() !== r.service;
    });
    expect(wrong.map((r) => r.subject)).toEqual([]);
    expect(Object.entries(HEALTH_BY_SERVICE).map(([name, r]) => [name, r.method.split('/')[2]])).toEqual(
      ALL_SERVICE_DEFINITIONS.map((d) => [d.name.replace(/Service$/, '').toLowerCase(), 'Health']),
    );
  });
});
