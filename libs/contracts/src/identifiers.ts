/**
 * The names and ids that cross the node's surfaces (the bus, HTTP, MCP, peers, the CLI), each
 * written once: as a JSON Schema `pattern` (the HTTP and MCP schemas take it as it is), a predicate
 * for code, and the words errors use to say what is expected.
 */

/** A skill's name in the catalog, in records and in requests. */
export const SKILL_NAME_PATTERN = '^[a-z0-9_-]{1,64}$';
export const SKILL_NAME_TEXT = '1-64 characters of [a-z0-9_-]';
/** An agent's name (api-svc; its account is `agent/<name>`). */
export const AGENT_NAME_PATTERN = '^[a-z0-9-]{1,32}$';
export const AGENT_NAME_TEXT = '1-32 of a-z, 0-9 and -';
/** An agent's ledger account is `agent/<name>`: node ids have no '/', so the two never collide. */
export const AGENT_ACCOUNT_PREFIX = 'agent/';
/**
 * A ledger account (libs/credit validateAccount, whose spec holds the two together): an id of 1-128
 * of [A-Za-z0-9._:-] (a node's id, its account), or an agent's `agent/<name>`.
 */
export const ACCOUNT_ID_PATTERN = '^(?:[A-Za-z0-9._:-]{1,128}|agent/[a-z0-9-]{1,32})$';
export const ACCOUNT_ID_TEXT = `1-128 of [A-Za-z0-9._:-], or ${AGENT_ACCOUNT_PREFIX}<name> with name ${AGENT_NAME_TEXT}`;
/** A submitter's idempotency key (SubmitTaskRequest.idempotency_key). */
export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';
export const IDEMPOTENCY_KEY_TEXT = '1-64 of [A-Za-z0-9._:-]';
/**
 * A task id as a client may hold one: the router's (`task-` + 32 hex) and anything of the same
 * alphabet but `.` and `..`, which a URL path would resolve away (`/v1/tasks/..`).
 */
// No lookaround (RE2-style validators of the published schemas have none): not `.`, not `..`.
export const TASK_ID_PATTERN = '^(?:[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,79}|\\.[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,78}|\\.\\.[A-Za-z0-9._:-]{1,78})$';
export const TASK_ID_TEXT = "1-80 of [A-Za-z0-9._:-], not '.' or '..'";

const SKILL_NAME = new RegExp(SKILL_NAME_PATTERN);
const AGENT_NAME = new RegExp(AGENT_NAME_PATTERN);
const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);
const TASK_ID = new RegExp(TASK_ID_PATTERN);

export const isSkillName = (value: string): boolean => SKILL_NAME.test(value);
export const isAgentName = (value: string): boolean => AGENT_NAME.test(value);
export const isAccountId = (value: string): boolean => ACCOUNT_ID.test(value);
export const isIdempotencyKey = (value: string): boolean => IDEMPOTENCY_KEY.test(value);
export const isTaskId = (value: string): boolean => TASK_ID.test(value);

/** The ledger account of the agent named `name`. */
export const agentAccount = (name: string): string => `${AGENT_ACCOUNT_PREFIX}${name}`;
