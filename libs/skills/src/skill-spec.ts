/**
 * Everything the node knows about a skill, in one object: its typed signature, how its inputs are
 * checked, how much work (and so credit) a call is, how a result is verified without trusting the
 * executor, when two verified results agree, a plain-JS reference, its gpu.js kernels and its
 * example inputs. Every part is required, so a skill without its kernel, demo or agreement rule
 * does not compile; catalog.ts lists the skills.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import type { Agreement } from './agreement';
import type { SkillKernel } from './skill-kernel';

export interface InputLimits {
  /** Largest element count of all inputs together, and of each output. */
  readonly maxElements: number;
}

export interface VerifyOptions {
  /**
   * Default true. False: a result that fails a probabilistic check is not recomputed in part to
   * prove it wrong (Verdict.refuted stays false): for callers that only need `ok`, such as the
   * soundness trials, which reject thousands of results.
   */
  readonly refute?: boolean;
}

export interface Verdict {
  readonly ok: boolean;
  /**
   * Not ok, and proven wrong whatever honest f32 computation made it (a malformed result, a NaN, a
   * value recomputed exactly past the worst case; for mlp's y, past its first-order worst case): its
   * maker misbehaved. Not ok and not refuted: not
   * paid, but no proof against its maker (crafted inputs can put an honest result outside a check's
   * probabilistic tolerance; worst-case.ts). Always false when ok.
   */
  readonly refuted: boolean;
  /** The verification method that produced this verdict, e.g. "freivalds". */
  readonly method: string;
  /** One line for people: what was checked, or what failed. */
  readonly detail: string;
}

/** One input of a generated example: values are drawn uniformly from [-scale, scale) (demo-inputs.ts). */
export interface DemoTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly scale: number;
}

/** Example inputs (`swarm submit --size n`, `swarm up --demo`, benchmarks, tests). */
export interface SkillDemo {
  /** What the size n means, for `swarm submit --help`, e.g. "n×n matrices". */
  readonly sizeMeaning: string;
  /** The size `swarm up --demo` runs. */
  readonly exampleSize: number;
  /** The example's tensors at size n ≥ 1; their value count must not shrink as n grows. */
  tensors(size: number): readonly DemoTensor[];
  /**
   * Input shapes the kernel conformance tests run (libs/kernels kernel-verification.trials.spec.ts), one
   * list of input shapes per case, smallest first; the last is at the node's limit (README).
   */
  readonly testShapes: ReadonlyArray<ReadonlyArray<readonly number[]>>;
}

export interface SkillSpec<Name extends string = string> {
  /** 1-64 of [a-z0-9_-] (what the registry accepts). */
  readonly name: Name;
  readonly description: string;
  /** Human-readable signatures, e.g. "a:[n,k] b:[k,m]" -> "c:[n,m]". */
  readonly inputSignature: string;
  readonly outputSignature: string;
  /** Name of the verification method `verify` applies. */
  readonly verification: string;
  /** One line: the false-accept probability `verify` guarantees and what counts as a wrong result. */
  readonly verificationBound: string;
  /** One line: what a verification costs next to the task's own compute. */
  readonly verificationCost: string;
  /** Credits per million work units (see `work`). */
  readonly pricePerMWork: bigint;
  /** Throws SwarmError INVALID_ARGUMENT (count, names, shapes, non-finite values) or PAYLOAD_TOO_LARGE. */
  validate(inputs: readonly DenseTensor[], limits: InputLimits): void;
  /** Output names and shapes for validated inputs. */
  outputShapes(inputs: readonly DenseTensor[]): ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  /** Abstract work units of one call on validated inputs (floating-point operations). */
  work(inputs: readonly DenseTensor[]): number;
  /** Checks a claimed result; never throws on a malformed result, says why in the verdict instead. */
  verify(inputs: readonly DenseTensor[], outputs: readonly DenseTensor[], random: Random, options?: VerifyOptions): Verdict;
  /**
   * Whether two results that each passed `verify` agree: they differ by no more than two honest f32
   * computations of the task can (any backend, summation order, FMA or not; agreement.ts). A
   * redundant task pays only replicas that agree with the result returned. Never throws.
   */
  agree(inputs: readonly DenseTensor[], first: readonly DenseTensor[], second: readonly DenseTensor[]): Agreement;
  /**
   * Settles a dispute: `first` and `second` each passed `verify` but do not `agree`. Recomputes
   * exactly (f64) the first rows of the outputs where they disagree (at most REFEREE_ROWS) and
   * holds each of `results` (each passed `verify`) to the worst an honest f32 computation can be
   * off there: '' when within it (an honest result always is, whatever the data), else the first
   * place it is not. On most data it refutes one of two that disagree; agreement.ts says when it
   * may refute neither. Never throws.
   */
  referee(inputs: readonly DenseTensor[], first: readonly DenseTensor[], second: readonly DenseTensor[], results: readonly (readonly DenseTensor[])[]): string[];
  /** Plain-JS f32 implementation: the benchmark baseline and the ground truth in tests. */
  reference(inputs: readonly DenseTensor[]): DenseTensor[];
  /** The gpu.js kernels an executor runs. */
  readonly kernel: SkillKernel;
  readonly demo: SkillDemo;
}
