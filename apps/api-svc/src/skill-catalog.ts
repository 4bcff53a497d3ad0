/**
 * What agents read about skills: the executors' list (what this node runs, its prices) with the
 * input and output shapes spelled out, and quotes computed by the catalog's own pricing
 * (libs/skills priceOf), so a quote is exactly what the router escrows for the same inputs.
 */
import type { DenseTensor, ListSkillsResponse } from '@swarm/contracts';
import { elementCount, ErrorCode, SwarmError, TASK_MAX_ELEMENTS } from '@swarm/contracts';
import { getSkill, priceOf } from '@swarm/skills';
import type { QuoteBody } from './http-schemas';

export interface NamedShape {
  name: string;
  shape: string[];
}

/** "a:[n,k] b:[k,m]" -> [{name: a, shape: [n, k]}, {name: b, shape: [k, m]}]. */
export function parseSignature(signature: string): NamedShape[] {
  const out: NamedShape[] = [];
  for (const m of signature.matchAll(/([A-Za-z0-9_]+):\[([^\]]*)\]/g)) {
    out.push({ name: m[1], shape: m[2].split(',').map((d) => d.trim()) });
  }
  return out;
}

export function skillsJson(res: ListSkillsResponse) {
  return {
    backend: res.backend,
    maxElements: TASK_MAX_ELEMENTS,
    skills: res.skills.map((s) => ({
      name: s.name,
      description: s.description,
      inputs: parseSignature(s.inputs),
      outputs: parseSignature(s.outputs),
      pricePerMwork: String(s.pricePerMwork),
      verification: s.verification,
      verificationBound: s.verificationBound,
      verificationCost: s.verificationCost,
    })),
  };
}

/** The price of a task on these inputs: the skill validates them first (shapes, limits, finite values). */
export function priceTask(skill: string, inputs: readonly DenseTensor[]): { price: bigint; work: number; pricePerMwork: bigint } {
  const spec = getSkill(skill);
  spec.validate(inputs, { maxElements: TASK_MAX_ELEMENTS });
  return { price: priceOf(spec, inputs), work: spec.work(inputs), pricePerMwork: spec.pricePerMWork };
}

/** A quote from shapes alone: zero-valued inputs of those shapes have the same price. */
export function quoteJson(body: QuoteBody) {
  let total = 0;
  for (const s of body.shapes) {
    total += elementCount(s.shape);
    if (!Number.isSafeInteger(total) || total > TASK_MAX_ELEMENTS) {
      throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `the shapes hold more than ${TASK_MAX_ELEMENTS} elements, a task's limit`);
    }
  }
  const inputs = body.shapes.map((s) => ({ name: s.name, shape: s.shape, data: new Float32Array(elementCount(s.shape)) }));
  const { price, work, pricePerMwork } = priceTask(body.skill, inputs);
  return { skill: body.skill, price: String(price), pricePerMwork: String(pricePerMwork), work, maxElements: TASK_MAX_ELEMENTS };
}
