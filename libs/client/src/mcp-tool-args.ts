/**
 * MCP tool arguments checked against the tools' own input schemas (mcp-tool-schemas.ts, ajv, first
 * problem only: the message names the field and the rule, never the value), then against the
 * chosen skill's inputs, and turned into SDK calls. Every refusal is an INVALID_ARGUMENT the tool
 * answers as `isError` with its code; deeper checks (shapes that fit together, finite values, the
 * size limit) are the node's, which answers with its own codes.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { AgentTask, InputTensor } from './agent-api-types';
import { capText, MAX_SERVER_MESSAGE_CHARS } from './api-error';
import type { SkillInputDecl, ToolSchemas } from './mcp-tool-schemas';
import { signatureText } from './mcp-tool-schemas';

export type ToolName = keyof ToolSchemas;
export type ToolArgs = Record<string, unknown>;

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, capText(message, MAX_SERVER_MESSAGE_CHARS));
}

export interface ToolArgChecker {
  /** The arguments if they fit the tool's schema; throws INVALID_ARGUMENT naming the first problem. */
  check(tool: ToolName, args: unknown): ToolArgs;
}

export function createToolArgChecker(schemas: ToolSchemas): ToolArgChecker {
  // allErrors off: the first problem is reported, and a huge wrong array is not walked to the end.
  const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false, useDefaults: false, removeAdditional: false });
  const validators = new Map<string, ValidateFunction>(Object.entries(schemas).map(([name, schema]) => [name, ajv.compile(schema as object)]));
  return {
    check(tool, args) {
      const validate = validators.get(tool);
      if (!validate) throw invalid(`unknown tool '${tool}'`);
      const value = args ?? {};
      if (validate(value)) return value as ToolArgs;
      const e = validate.errors?.[0];
      const where = e?.instancePath ? `arguments${e.instancePath.replace(/\//g, '.')}` : 'arguments';
      const extra = e?.keyword === 'additionalProperties' ? ` ('${capText(String((e.params as { additionalProperty?: unknown }).additionalProperty), 64)}')` : '';
      const allowed = e?.keyword === 'enum' ? ` (${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')})` : '';
      throw invalid(`${tool}: ${where} ${e?.message ?? 'do not match the schema'}${extra}${allowed}`);
    },
  };
}

/** The names given must be exactly the skill's inputs; answers them in the skill's order. */
function orderedNames(skill: string, decls: readonly SkillInputDecl[] | undefined, given: readonly string[]): SkillInputDecl[] {
  if (!decls) throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_SKILL, `unknown skill '${capText(skill, 64)}'`);
  const missing = decls.filter((d) => !given.includes(d.name)).map((d) => d.name);
  const extra = given.filter((g) => !decls.some((d) => d.name === g));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `not its input: ${extra.join(', ')}` : ''].filter(Boolean).join('; ');
    throw invalid(`${skill} takes inputs ${signatureText(decls)}; ${problems}`);
  }
  return [...decls];
}

function rankCheck(skill: string, decl: SkillInputDecl, shape: readonly number[]): void {
  if (shape.length !== decl.dims.length)
    throw invalid(`${skill} input '${decl.name}' must have ${decl.dims.length} dimension${decl.dims.length === 1 ? '' : 's'} [${decl.dims.join(',')}], got ${shape.length}`);
}

/** quote_task's arguments as the SDK's quote call. */
export function quoteArgs(args: ToolArgs, inputs: ReadonlyMap<string, readonly SkillInputDecl[]>): { skill: string; shapes: Array<{ name: string; shape: number[] }> } {
  const skill = args['skill'] as string;
  const shapes = args['shapes'] as Record<string, number[]>;
  const decls = orderedNames(skill, inputs.get(skill), Object.keys(shapes));
  return {
    skill,
    shapes: decls.map((d) => {
      rankCheck(skill, d, shapes[d.name]);
      return { name: d.name, shape: shapes[d.name] };
    }),
  };
}

interface TensorArg {
  shape: number[];
  data?: number[];
  dataBase64?: string;
}

function values(skill: string, name: string, t: TensorArg): Float32Array | number[] {
  if ((t.data === undefined) === (t.dataBase64 === undefined)) throw invalid(`${skill} input '${name}': give exactly one of data and dataBase64`);
  if (t.data !== undefined) return t.data;
  const text = t.dataBase64 as string;
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw invalid(`${skill} input '${name}': dataBase64 is not base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 4 !== 0) throw invalid(`${skill} input '${name}': dataBase64 holds ${bytes.byteLength} bytes, not whole f32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** submit_task's arguments as the SDK's task (inputs in the skill's order; the node checks the rest). */
export function taskArgs(args: ToolArgs, inputs: ReadonlyMap<string, readonly SkillInputDecl[]>): AgentTask {
  const skill = args['skill'] as string;
  const given = args['inputs'] as Record<string, TensorArg>;
  const decls = orderedNames(skill, inputs.get(skill), Object.keys(given));
  const tensors: InputTensor[] = decls.map((d) => {
    const t = given[d.name];
    rankCheck(skill, d, t.shape);
    return { name: d.name, shape: t.shape, data: values(skill, d.name, t) };
  });
  return {
    skill,
    inputs: tensors,
    ...(typeof args['budget'] === 'number' ? { budget: BigInt(args['budget']) } : {}),
    ...(typeof args['timeoutMs'] === 'number' ? { timeoutMs: args['timeoutMs'] } : {}),
    ...(typeof args['idempotencyKey'] === 'string' ? { idempotencyKey: args['idempotencyKey'] } : {}),
    ...(typeof args['redundancy'] === 'number' ? { redundancy: args['redundancy'] } : {}),
    ...(typeof args['shards'] === 'number' ? { shards: args['shards'] } : {}),
  };
}
