/**
 * The wire limits of the messages that carry a task or its result (wire-counts.ts): a task takes
 * at most TASK_MAX_INPUTS inputs of rank TASK_MAX_RANK, and a result has as many outputs at most.
 * api-svc checks an agent's protobuf body with them, router-svc a submit on the bus, the gateway a
 * peer's execute request, and the router a provider's signed result before decoding it.
 */
import { TASK_MAX_INPUTS, TASK_MAX_RANK } from './limits';
import type { WireLimits } from './wire-counts';
import { refuseOverfullMessage } from './wire-counts';

/** Tensor: its shape (field 2). */
const TENSOR: WireLimits = { 2: { max: TASK_MAX_RANK, packed: true, name: 'dimensions' } };
/** SubmitTaskRequest: its inputs (field 2). */
export const SUBMIT_TASK_LIMITS: WireLimits = { 2: { max: TASK_MAX_INPUTS, message: TENSOR, name: 'inputs' } };
/** ExecuteRequest: its inputs (field 3). */
export const EXECUTE_REQUEST_LIMITS: WireLimits = { 3: { max: TASK_MAX_INPUTS, message: TENSOR, name: 'inputs' } };
/** ExecuteResponse: its outputs (field 2). */
export const EXECUTE_RESPONSE_LIMITS: WireLimits = { 2: { max: TASK_MAX_INPUTS, message: TENSOR, name: 'outputs' } };

/** Refuses (INVALID_ARGUMENT) a SubmitTaskRequest with more inputs, or an input with more dimensions, than a task may have; MALFORMED_MESSAGE for bytes that are no protobuf. */
export function refuseOverfullTaskRequest(body: Uint8Array): void {
  refuseOverfullMessage(body, SUBMIT_TASK_LIMITS, 'swarm.v1.SubmitTaskRequest');
}
