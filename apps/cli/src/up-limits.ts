/**
 * What `swarm up` accepts and starts, stated in `--help`. Plain numbers, so `swarm --help` loads
 * neither the launcher nor the skill catalog.
 */

/** `swarm up --nodes` at most: 16 nodes are 90 processes, already more than a laptop wants. */
export const MAX_NODES = 16;

/** What `swarm up --demo` (`npm start`) starts without --nodes: a small swarm. */
export const DEMO_NODES = 3;
