import { pathToFileURL } from 'node:url';

/**
 * Node arguments that run a TypeScript entry point through tsx, resolved to an absolute URL so it
 * works from any working directory (the repo ships sources; there is no separate build step).
 */
export function tsNodeArgs(entry: string): string[] {
  return ['--import', pathToFileURL(require.resolve('tsx')).href, entry];
}
