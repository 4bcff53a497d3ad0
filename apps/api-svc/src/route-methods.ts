/**
 * Which methods a path has routes for, so a known path asked with another method is answered 405
 * with an `Allow` header (RFC 9110 §15.5.6), not 404 as if the path did not exist.
 */

/** Route patterns (fastify's `/v1/tasks/:id` form) and the methods each is registered with. */
export interface RouteMethods {
  add(pattern: string, methods: string | readonly string[]): void;
  /** The methods registered for routes matching `path` (no query), sorted; empty when none matches. */
  allowed(path: string): string[];
}

export function routeMethods(): RouteMethods {
  const routes = new Map<string, { readonly match: RegExp; readonly methods: Set<string> }>();
  return {
    add(pattern, methods) {
      let route = routes.get(pattern);
      if (!route) {
        route = { match: patternRegExp(pattern), methods: new Set() };
        routes.set(pattern, route);
      }
      for (const m of typeof methods === 'string' ? [methods] : methods) route.methods.add(m.toUpperCase());
    },
    allowed(path) {
      const found = new Set<string>();
      for (const { match, methods } of routes.values()) if (match.test(path)) for (const m of methods) found.add(m);
      return [...found].sort();
    },
  };
}

/** `:name` matches one non-empty segment; everything else literally. */
function patternRegExp(pattern: string): RegExp {
  const parts = pattern.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}$`);
}
