/**
 * Redundant replicas (a task run by K providers): the results are only trusted when two agree.
 * v(S) = taskValue  if at least 2 members of S returned verified results that agree,
 *        loneValue  else if some member of S returned a verified result,
 *        0          otherwise.
 * A replica that returned nothing, or a result that failed verification, adds nothing to any
 * coalition: a null player, paid 0. Agreement (within the skill's tolerance) is decided by the caller,
 * who numbers each class of agreeing verified results; by symmetry, k agreeing replicas and no other
 * verified result share taskValue equally (taskValue/k each).
 */
import type { Game } from './game';
import { MAX_PLAYERS, checkNonNegative, invalid, maskValueOrRefusal, quote } from './game';

export interface ReplicaGameInput {
  /** Per player: the agreement class of its verified result (a small integer ≥ 0), or null when it has none. */
  agreement: readonly (number | null)[];
  /** What the task is worth once two verified results agree. */
  taskValue: number;
  /** What one verified result without a second is worth (≤ taskValue). */
  loneValue: number;
}

export function replicaGame(input: ReplicaGameInput): Game {
  const { agreement } = input;
  if (!Array.isArray(agreement) || agreement.length < 1 || agreement.length > MAX_PLAYERS) throw invalid(`replicaGame: agreement must list 1..${MAX_PLAYERS} players`);
  const taskValue = checkNonNegative(input.taskValue, 'replicaGame: taskValue');
  const loneValue = checkNonNegative(input.loneValue, 'replicaGame: loneValue');
  if (loneValue > taskValue) throw invalid(`replicaGame: loneValue (${quote(loneValue)}) must not exceed taskValue (${quote(taskValue)})`);
  const players = agreement.length;
  // Classes renumbered densely 0..classes-1 so a coalition is scored with one small counter array;
  // only verified players are visited, since the others never change the value.
  const dense = new Map<number, number>();
  const verifiedPlayers: number[] = [];
  const verifiedClasses: number[] = [];
  agreement.forEach((c, i) => {
    if (c === null) return;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) throw invalid(`replicaGame: agreement[${i}] must be an integer >= 0 or null, got ${quote(c)}`);
    if (!dense.has(c)) dense.set(c, dense.size);
    verifiedPlayers.push(i);
    verifiedClasses.push(dense.get(c) as number);
  });
  const counts = new Int32Array(dense.size);
  const classOf = new Int32Array(players).fill(-1);
  verifiedPlayers.forEach((player, k) => (classOf[player] = verifiedClasses[k]));

  const score = (has: (i: number) => boolean): number => {
    counts.fill(0);
    let verified = false;
    for (let k = 0; k < verifiedPlayers.length; k++) {
      if (!has(verifiedPlayers[k])) continue;
      verified = true;
      if (++counts[verifiedClasses[k]] >= 2) return taskValue;
    }
    return verified ? loneValue : 0;
  };
  return {
    players,
    valueOfMask: maskValueOrRefusal(players, (mask) => score((i) => ((mask >>> i) & 1) === 1)),
    valueOfMembers: (members) => score((i) => members[i] === 1),
    walk: () => {
      const present = new Int32Array(dense.size);
      let verified = false;
      let agreed = false;
      const value = () => (agreed ? taskValue : verified ? loneValue : 0);
      return {
        reset: () => {
          present.fill(0);
          verified = agreed = false;
          return 0;
        },
        add: (player) => {
          const c = classOf[player] ?? -1;
          if (c >= 0 && !agreed) {
            verified = true;
            agreed = ++present[c] >= 2;
          }
          return value();
        },
      };
    },
  };
}
