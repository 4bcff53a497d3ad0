/** Exit statuses a process of the node ends with; a supervisor reads them. */

/** Stopped as asked. */
export const EXIT_OK = 0;
/** Failed to start, or its stop failed or ran out of time. */
export const EXIT_FAILURE = 1;
/** sysexits' EX_CONFIG: restarting cannot help, so a supervisor gives up at once. */
export const EXIT_BAD_CONFIG = 78;
/** A second signal cut the shutdown short (128 + SIGINT, the shell's convention). */
export const EXIT_INTERRUPTED = 130;
