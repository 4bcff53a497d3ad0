import { routeMethods } from './route-methods';

describe('route methods - what a path takes', () => {
  const routes = routeMethods();
  routes.add('/v1/tasks', 'POST');
  routes.add('/v1/tasks/:id', ['GET', 'HEAD']);
  routes.add('/v1/tasks/:id/events', 'get');
  routes.add('/openapi.json', 'GET');

  it('answers the methods of every route the path matches, sorted', () => {
    expect(routes.allowed('/v1/tasks')).toEqual(['POST']);
    expect(routes.allowed('/v1/tasks/abc')).toEqual(['GET', 'HEAD']);
    expect(routes.allowed('/v1/tasks/abc/events')).toEqual(['GET']);
  });

  it('matches a parameter to one non-empty segment and the rest literally', () => {
    expect(routes.allowed('/v1/tasks/')).toEqual([]);
    expect(routes.allowed('/v1/tasks/a/b')).toEqual([]);
    expect(routes.allowed('/openapiXjson')).toEqual([]);
    expect(routes.allowed('/v2/tasks')).toEqual([]);
  });
});
