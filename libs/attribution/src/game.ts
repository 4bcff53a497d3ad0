/**
 * Cooperative games as the Shapley functions read them. Players are 0..n-1. A coalition S is:
 * - a bitmask (`number`, bit i set ⇔ player i ∈ S) for n ≤ MAX_MASK_PLAYERS: `exactShapley` passes these;
 * - a membership vector (`Uint8Array`, members[i] === 1 ⇔ player i ∈ S) for any n: `approxShapley`
 *   passes these, one array reused between calls (read it, do not keep it).
 * `approxShapley` also takes a `CoalitionWalk`: the coalition grown one player at a time, which a
 * game can score incrementally (O(what the player touches) instead of O(game) per step).
 * Value functions must be deterministic: the same coalition always has the same value.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';

/** 30 bits keep `1 << i` and `mask | bit` in positive 32-bit integers (bit 31 would turn negative). */
export const MAX_MASK_PLAYERS = 30;
/** Most players a game built here or `approxShapley` accepts: far above any task's contributors. */
export const MAX_PLAYERS = 10_000;

/** v(S) with S as a bitmask (n ≤ MAX_MASK_PLAYERS). */
export type MaskValue = (mask: number) => number;
/** v(S) with S as a membership vector; the array is reused between calls. */
export type MembershipValue = (members: Uint8Array) => number;

/** A coalition grown along an order of the players, as permutation sampling walks it. */
export interface CoalitionWalk {
  /** Empties the coalition; returns v(∅). */
  reset(): number;
  /** Adds a player not yet in it; returns the value of the grown coalition. */
  add(player: number): number;
}

/** A game in every coalition form, so one game feeds `exactShapley` and `approxShapley`. */
export interface Game {
  readonly players: number;
  /** Throws INVALID_ARGUMENT when players > MAX_MASK_PLAYERS. */
  readonly valueOfMask: MaskValue;
  readonly valueOfMembers: MembershipValue;
  /** A fresh incremental walk (it holds state: one per `approxShapley` call). */
  readonly walk: () => CoalitionWalk;
}

/** Messages quote at most this much of a bad input (STYLE: never echo an input whole). */
const QUOTE_CHARS = 64;

export function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

export function quote(x: unknown): string {
  return String(x).slice(0, QUOTE_CHARS);
}

export function checkPlayers(n: unknown, max: number, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) throw invalid(`${what}: players must be an integer in [1, ${max}], got ${quote(n)}`);
  return n;
}

export function checkValue(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`${what} must be a finite number, got ${quote(x)}`);
  return x;
}

export function checkNonNegative(x: unknown, what: string): number {
  const value = checkValue(x, what);
  if (value < 0) throw invalid(`${what} must be >= 0, got ${quote(x)}`);
  return value;
}

export function checkPlayer(i: unknown, n: number, what: string): number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n) throw invalid(`${what} must be a player in [0, ${n - 1}], got ${quote(i)}`);
  return i;
}

/** An array of at most `max` items; typed as given (Array.isArray alone would narrow it to any[]). */
export function checkList<T>(list: readonly T[], max: number, what: string): readonly T[] {
  const isArray: (x: unknown) => boolean = Array.isArray;
  if (!isArray(list) || list.length > max) throw invalid(`${what} must be an array of at most ${max}`);
  return list;
}

/** A mask-form function that refuses games too wide for 32-bit masks. */
export function maskValueOrRefusal(players: number, value: MaskValue): MaskValue {
  if (players <= MAX_MASK_PLAYERS) return value;
  return () => {
    throw invalid(`bitmask coalitions hold at most ${MAX_MASK_PLAYERS} players, this game has ${players}: use valueOfMembers`);
  };
}

/** Adapts a bitmask value function to the membership form `approxShapley` calls (n ≤ 30). */
export function fromMaskValue(n: number, value: MaskValue): MembershipValue {
  checkPlayers(n, MAX_MASK_PLAYERS, 'fromMaskValue');
  return (members) => {
    let mask = 0;
    for (let i = 0; i < n; i++) if (members[i] === 1) mask |= 1 << i;
    return value(mask);
  };
}

/** The walk of any membership value function: re-evaluates v after each added player. */
export function membershipWalk(n: number, value: MembershipValue): CoalitionWalk {
  const members = new Uint8Array(n);
  return {
    reset: () => {
      members.fill(0);
      return value(members);
    },
    add: (player) => {
      members[player] = 1;
      return value(members);
    },
  };
}
