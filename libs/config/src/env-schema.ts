/**
 * Config loading: `loadX(env)` is pure and returns a frozen typed object, or throws one ConfigError
 * listing every bad variable as `VAR: expected …, got '…'` (a user fixes them all in one go).
 */
import { z } from 'zod';

export class ConfigError extends Error {
  readonly code = 'SWARM_BAD_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A variable: its zod schema over the raw string (or undefined) and what a user should write. */
export interface EnvVar<T> {
  readonly schema: z.ZodType<T, string | undefined>;
  readonly expected: string;
}

export function envVar<T>(schema: z.ZodType<T, string | undefined>, expected: string): EnvVar<T> {
  return { schema, expected };
}

type Shape = Record<string, EnvVar<unknown>>;
type Loaded<S extends Shape> = { readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

export function loadEnv<S extends Shape>(env: Env, shape: S): Loaded<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(shape)) {
    const raw = env[name];
    const parsed = v.schema.safeParse(raw === '' ? undefined : raw);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name}: expected ${v.expected}, got ${raw === undefined ? 'nothing' : `'${raw}'`}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Loaded<S>;
}

const INT = /^-?\d+$/;

export function intVar(opts: { default?: number; min: number; max: number }): EnvVar<number> {
  const base = z.string().regex(INT).transform(Number).pipe(z.number().int().min(opts.min).max(opts.max));
  const schema = opts.default === undefined ? base : base.optional().transform((v) => v ?? (opts.default as number));
  const dflt = opts.default === undefined ? '' : ` (default ${opts.default})`;
  return envVar(schema as z.ZodType<number, string | undefined>, `an integer in [${opts.min}, ${opts.max}]${dflt}`);
}

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** A plain decimal number in [min, max] (no exponent, sign or `Infinity`: what a person writes). */
export function numberVar(opts: { default: number; min: number; max: number }): EnvVar<number> {
  const schema = z
    .string()
    .regex(DECIMAL)
    .transform(Number)
    .pipe(z.number().min(opts.min).max(opts.max))
    .optional()
    .transform((v) => v ?? opts.default);
  return envVar(schema as z.ZodType<number, string | undefined>, `a number in [${opts.min}, ${opts.max}] (default ${opts.default})`);
}

export function bigintVar(opts: { default: bigint; min: bigint; max?: bigint }): EnvVar<bigint> {
  const schema = z
    .string()
    .regex(/^\d+$/)
    .transform((s) => BigInt(s))
    .refine((v) => v >= opts.min && (opts.max === undefined || v <= opts.max))
    .optional()
    .transform((v) => v ?? opts.default);
  const range = opts.max === undefined ? `>= ${opts.min}` : `in [${opts.min}, ${opts.max}]`;
  return envVar(schema as z.ZodType<bigint, string | undefined>, `a whole number ${range} (default ${opts.default})`);
}

export function stringVar(opts: { default?: string; pattern?: RegExp; describe: string }): EnvVar<string> {
  const base = opts.pattern ? z.string().regex(opts.pattern) : z.string().min(1);
  const schema = opts.default === undefined ? base : base.optional().transform((v) => v ?? (opts.default as string));
  return envVar(schema as z.ZodType<string, string | undefined>, opts.describe);
}

export function optionalStringVar(opts: { pattern?: RegExp; describe: string }): EnvVar<string | undefined> {
  const base = opts.pattern ? z.string().regex(opts.pattern) : z.string().min(1);
  return envVar(base.optional() as z.ZodType<string | undefined, string | undefined>, opts.describe);
}

export function enumVar<T extends string>(values: readonly [T, ...T[]], dflt: T): EnvVar<T> {
  const schema = z
    .enum(values)
    .optional()
    .transform((v) => v ?? dflt);
  return envVar(schema as z.ZodType<T, string | undefined>, `one of ${values.join('|')} (default ${dflt})`);
}

export function booleanVar(dflt: boolean): EnvVar<boolean> {
  const schema = z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? dflt : v === 'true' || v === '1'));
  return envVar(schema as z.ZodType<boolean, string | undefined>, `true|false (default ${dflt})`);
}
