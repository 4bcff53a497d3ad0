/**
 * Each request's arrival time and the bytes it holds of the node's request-bytes budget
 * (body-budget.ts), kept beside the fastify request: http-server.ts takes them before the body is
 * read, routes keep a task's bytes until the task ends, and the task's deadline counts from arrival.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BodyBudget, BodyHold } from './body-budget';
import { declaredBodyBytes } from './body-budget';

const arrivals = new WeakMap<FastifyRequest, number>();
const holds = new WeakMap<FastifyRequest, BodyHold>();
/** What to run when a connection closes: one listener per socket, however many requests it carries. */
const socketCloses = new WeakMap<Socket, Set<() => void>>();

/** Notes the request's arrival (its first hook). */
export function markArrival(request: FastifyRequest): void {
  arrivals.set(request, performance.now());
}

/** How long ago the request arrived, in ms: reading and checking its body count against a task's deadline. */
export function msSinceArrival(request: FastifyRequest): number {
  const at = arrivals.get(request);
  return at === undefined ? 0 : performance.now() - at;
}

/**
 * Takes the bytes the request may bring for `agent` (OVERLOADED past the budget or the agent's
 * share), before a byte of its body is read. They go back when the exchange is over: its response
 * closed (sent, or its client gone), or its connection closed (a pipelined request whose turn never
 * came gets no close of its own); and, for a task, once the task ended (holdRequestBytesUntil).
 */
export function takeRequestBytes(budget: BodyBudget, agent: string, request: FastifyRequest, reply: FastifyReply, largestBody: number): void {
  const bytes = declaredBodyBytes(request.headers['content-length'], request.headers['transfer-encoding'], largestBody);
  const hold = budget.take(agent, bytes);
  holds.set(request, hold);
  const release = () => hold.release();
  reply.raw.once('close', release);
  whenSocketCloses(request.raw.socket, release, reply.raw);
  if (reply.raw.destroyed || request.raw.socket.destroyed) release();
}

/** Keeps the request's bytes counted until `until` settles too (a task holds its inputs until it ends). */
export function holdRequestBytesUntil(request: FastifyRequest, until: Promise<unknown>): void {
  holds.get(request)?.alsoUntil(until);
}

/** Runs `fn` when `socket` closes, unless `response` closed first. */
function whenSocketCloses(socket: Socket, fn: () => void, response: ServerResponse): void {
  let pending = socketCloses.get(socket);
  if (!pending) {
    const set = new Set<() => void>();
    socketCloses.set(socket, set);
    socket.once('close', () => {
      for (const f of set) f();
      set.clear();
    });
    pending = set;
  }
  const set = pending;
  set.add(fn);
  response.once('close', () => set.delete(fn));
}
