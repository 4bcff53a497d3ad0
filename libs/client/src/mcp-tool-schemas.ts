/**
 * The MCP tools' input schemas (JSON Schema), generated from the skill specs of this build
 * (libs/skills): skill names as an enum, and each skill's inputs by name with the dimensions its
 * signature gives them (`a:[n,k] b:[k,m]`), so an agent reads how to call a skill from tools/list.
 * The same schemas validate the arguments (mcp-tool-args.ts).
 */
import { IDEMPOTENCY_KEY_PATTERN, TASK_ID_PATTERN, TASK_MAX_ELEMENTS, TASK_MAX_REDUNDANCY, TASK_MAX_SHARDS, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';
import type { SkillSpec } from '@swarm/skills';
import { listSkills } from '@swarm/skills';

/** Ranks and input counts any skill of the catalog needs, with room to grow (as api-svc's schemas). */
export const MAX_RANK = 8;

export type JsonSchema = { readonly [key: string]: unknown };

export interface SkillInputDecl {
  readonly name: string;
  /** Dimension names, e.g. ["n", "k"]: the rank is their count. */
  readonly dims: readonly string[];
}

/** "a:[n,k] b:[k,m]" -> [{name: a, dims: [n, k]}, {name: b, dims: [k, m]}]. */
export function parseSignature(signature: string): SkillInputDecl[] {
  return [...signature.matchAll(/([A-Za-z0-9_]+):\[([^\]]*)\]/g)].map((m) => ({ name: m[1], dims: m[2].split(',').map((d) => d.trim()) }));
}

export function signatureText(inputs: readonly SkillInputDecl[]): string {
  return inputs.map((i) => `${i.name}:[${i.dims.join(',')}]`).join(' ');
}

/** Each skill's inputs in the order the node takes them. */
export function skillInputs(skills: readonly SkillSpec[] = listSkills()): ReadonlyMap<string, readonly SkillInputDecl[]> {
  return new Map(skills.map((s) => [s.name, parseSignature(s.inputSignature)]));
}

const EMPTY: JsonSchema = { type: 'object', properties: {}, additionalProperties: false };

const SHAPE: JsonSchema = {
  type: 'array',
  items: { type: 'integer', minimum: 1 },
  minItems: 1,
  maxItems: MAX_RANK,
  description: 'dimensions, e.g. [2, 3] for 2 rows of 3',
};

function skillLines(skills: readonly SkillSpec[]): string {
  return skills.map((s) => `${s.name}: ${s.inputSignature} -> ${s.outputSignature}. ${s.description}`).join('\n');
}

/** Every input name of every skill, with the skills that take it and its dimensions there. */
function inputUses(skills: readonly SkillSpec[]): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  for (const s of skills) {
    for (const i of parseSignature(s.inputSignature)) uses.set(i.name, [...(uses.get(i.name) ?? []), `${s.name} [${i.dims.join(',')}]`]);
  }
  return uses;
}

function byName(skills: readonly SkillSpec[], property: (name: string, uses: string[]) => JsonSchema): JsonSchema {
  return Object.fromEntries([...inputUses(skills)].map(([name, uses]) => [name, property(name, uses)]));
}

export interface ToolSchemas {
  readonly list_skills: JsonSchema;
  readonly quote_task: JsonSchema;
  readonly submit_task: JsonSchema;
  readonly get_task: JsonSchema;
  readonly get_balance: JsonSchema;
  readonly list_peers: JsonSchema;
}

export function toolSchemas(skills: readonly SkillSpec[] = listSkills()): ToolSchemas {
  const skill: JsonSchema = { type: 'string', enum: skills.map((s) => s.name), description: `the skill to run (inputs -> outputs):\n${skillLines(skills)}` };
  return {
    list_skills: EMPTY,
    get_balance: EMPTY,
    list_peers: EMPTY,
    get_task: {
      type: 'object',
      properties: { taskId: { type: 'string', pattern: TASK_ID_PATTERN, description: 'the id submit_task returned' } },
      required: ['taskId'],
      additionalProperties: false,
    },
    quote_task: {
      type: 'object',
      properties: {
        skill,
        shapes: {
          type: 'object',
          description: "each of the skill's inputs by name, with its shape",
          properties: byName(skills, (name, uses) => ({ ...SHAPE, description: `shape of ${name}: ${uses.join('; ')}` })),
          additionalProperties: false,
        },
      },
      required: ['skill', 'shapes'],
      additionalProperties: false,
    },
    submit_task: {
      type: 'object',
      properties: {
        skill,
        inputs: {
          type: 'object',
          description: `each of the skill's inputs by name (f32 values, row-major; at most ${TASK_MAX_ELEMENTS} values in all)`,
          properties: byName(skills, (name, uses) => ({
            type: 'object',
            description: `${name}: ${uses.join('; ')}`,
            properties: {
              shape: SHAPE,
              data: { type: 'array', items: { type: 'number' }, maxItems: TASK_MAX_ELEMENTS, description: 'the values, row-major' },
              dataBase64: { type: 'string', description: 'instead of data: little-endian f32 values, row-major, base64' },
            },
            required: ['shape'],
            additionalProperties: false,
          })),
          additionalProperties: false,
        },
        budget: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'most credits to pay (default: the quoted price)' },
        timeoutMs: { type: 'integer', minimum: 1, maximum: TASK_MAX_TIMEOUT_MS, description: "the task's deadline on the node in ms" },
        idempotencyKey: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN, description: 'the same key again is the same task: never run or paid twice' },
        redundancy: {
          type: 'integer',
          minimum: 1,
          maximum: TASK_MAX_REDUNDANCY,
          description: `how many different nodes run it (default 1); 2-${TASK_MAX_REDUNDANCY}: every result is verified and compared, the agreeing replicas are paid, and the default budget is that many times the price`,
        },
        shards: {
          type: 'integer',
          minimum: 1,
          maximum: TASK_MAX_SHARDS,
          description: `matmul only, not with redundancy: split a into this many row blocks (default 1; 2-${TASK_MAX_SHARDS}, at most a's rows), each run on a node and verified; paid the whole product's price only when every block is verified, each node by its blocks' share`,
        },
      },
      required: ['skill', 'inputs'],
      additionalProperties: false,
    },
  };
}
