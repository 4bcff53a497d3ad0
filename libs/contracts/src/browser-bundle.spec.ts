/**
 * libs/contracts must run in a browser bundle (the dashboard): no Node module, no `Buffer`, no
 * `process`. This loads the package's sources, and the protobuf runtime they import, into a
 * node:vm realm that has only what a browser offers (TextEncoder/TextDecoder, atob/btoa), the way
 * a bundler would link them: any import other than a relative file or @bufbuild/protobuf fails.
 */
import { transformSync } from '@swc/core';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import type * as Contracts from './index';

const SRC = __dirname;
const SWC_OPTIONS = { jsc: { target: 'es2022' as const, parser: { syntax: 'typescript' as const } }, module: { type: 'commonjs' as const } };

type Exports = Record<string, unknown>;

/** A CommonJS linker over one vm realm: `file` is an absolute .ts or .js path. */
function createBrowserRealm() {
  const realm = createContext({ TextEncoder, TextDecoder, atob, btoa });
  const cache = new Map<string, { exports: Exports }>();

  const resolveSpecifier = (from: string, specifier: string): string => {
    if (specifier.startsWith('.')) {
      const base = resolve(dirname(from), specifier);
      return from.endsWith('.ts') ? `${base}.ts` : base;
    }
    if (specifier.startsWith('@bufbuild/protobuf')) return require.resolve(specifier);
    throw new Error(`${from} imports '${specifier}', which a browser bundle does not have`);
  };

  const load = (file: string): Exports => {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as Exports };
    cache.set(file, module);
    const source = readFileSync(file, 'utf8');
    const code = file.endsWith('.ts') ? transformSync(source, { ...SWC_OPTIONS, filename: file }).code : source;
    const factory = runInContext(`(function (exports, require, module) {${code}\n})`, realm, { filename: file }) as (
      exports: Exports,
      require: (s: string) => Exports,
      module: { exports: Exports },
    ) => void;
    factory(module.exports, (specifier) => load(resolveSpecifier(file, specifier)), module);
    return module.exports;
  };

  return { load, evaluate: (code: string): unknown => runInContext(code, realm) };
}

describe('contracts - in a browser bundle', () => {
  const realm = createBrowserRealm();
  // The same module, linked in the other realm: its types hold, its objects are that realm's.
  const c = realm.load(join(SRC, 'index.ts')) as unknown as typeof Contracts;

  it('loads without Node globals or modules', () => {
    expect(realm.evaluate('[typeof Buffer, typeof process, typeof require]')).toEqual(['undefined', 'undefined', 'undefined']);
    expect(typeof c.RouterSubmit.request.encode).toBe('function');
  });

  it('encodes, decodes and maps tensors to proto3 JSON (bytes as base64) without Buffer', () => {
    const tensor = c.toTensor('a', [2], new Float32Array([1.5, -2]));
    const bytes = c.Tensor.encode(tensor).finish();
    expect(Array.from(c.fromTensor(c.Tensor.decode(bytes)).data)).toEqual([1.5, -2]);
    const json = c.Tensor.toJSON(tensor);
    expect(json).toEqual({ name: 'a', shape: [2], data: 'AADAPwAAAMA=' });
    expect(Array.from(c.fromTensor(c.Tensor.fromJSON(json)).data)).toEqual([1.5, -2]);
  });

  it('maps uint64 and enums to proto3 JSON and builds errors from the one table', () => {
    const status = c.TaskStatusResponse.fromPartial({ taskId: 't', state: c.TaskState.TASK_STATE_PAID, cost: 7n });
    expect(c.TaskStatusResponse.toJSON(status)).toMatchObject({ taskId: 't', state: 'TASK_STATE_PAID', cost: '7', refunded: '0' });
    const err = new c.SwarmError(c.ErrorCode.ERROR_CODE_OVERLOADED, 'busy');
    expect({ name: err.codeName, retryable: err.retryable }).toEqual({ name: 'SWARM_OVERLOADED', retryable: true });
  });
});

describe('contracts - hand-written code', () => {
  it('never names Buffer (the generated code only reaches it through globalThis, when present)', () => {
    const files = readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(files.filter((f) => /\bBuffer\b/.test(readFileSync(join(SRC, f), 'utf8')))).toEqual([]);
  });
});
