/**
 * `swarm`: start a node or a local swarm, submit tasks, read balances, skills and peers, audit the
 * ledger, show the router's trust in other nodes. Every error exits non-zero with one line
 * `error <CODE>: <message>` on stderr (exit statuses in docs/errors.md); `--json` prints exactly one
 * JSON document on stdout.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { cappedErrorMessage, CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitStatusOf, shownErrorMessage, toCliError } from './cli-error';
import { flushOutput, guardOutput, printedJson, printJson } from './output';
import { AGENT_NAME, AGENT_NAME_TEXT, MAX_REDUNDANCY, MAX_SHARDS, MAX_TASK_VALUES, MAX_TIMEOUT_MS } from './submit-limits';
// Types only (erased): the modules themselves load on first use below.
import type * as AgentModule from './commands/agent';
import type * as BalanceModule from './commands/balance';
import type * as HealthModule from './commands/health';
import type * as LedgerModule from './commands/ledger';
import type * as McpModule from './commands/mcp';
import type * as PeersModule from './commands/peers';
import type * as SkillsModule from './commands/skills';
import type * as SubmitModule from './commands/submit';
import type * as TaskModule from './commands/task';
import type * as TrustModule from './commands/trust';
import type * as UpModule from './commands/up';
import { operatorOnlyHint } from './operator-commands';
import { interruptsBeforeSending, sentTaskHint } from './submit-interrupt';
import { DEMO_NODES, MAX_NODES } from './up-limits';
import type * as DemoSizesModule from './demo-sizes';

// Each command's module loads only when it runs: a quick `swarm balance` must not load the launcher.
// Commander passes the parsed options object; each command module states its own option type.
type Options = Parameters<typeof UpModule.upCommand>[0] & Parameters<typeof SubmitModule.submitCommand>[0];
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const upCommand = (o: Options) => (require('./commands/up') as typeof UpModule).upCommand(o);
const submitCommand = (o: Options) => (require('./commands/submit') as typeof SubmitModule).submitCommand(o);
const balanceCommand = (o: Options) => (require('./commands/balance') as typeof BalanceModule).balanceCommand(o);
const skillsCommand = (o: Options) => (require('./commands/skills') as typeof SkillsModule).skillsCommand(o);
const healthCommand = (o: Options) => (require('./commands/health') as typeof HealthModule).healthCommand(o);
const taskCommand = (id: string | undefined, o: Options & { key?: string }) => (require('./commands/task') as typeof TaskModule).taskCommand(id, o);
const ledgerCommand = (o: Options & { audit?: boolean }) => (require('./commands/ledger') as typeof LedgerModule).ledgerCommand(o);
const peersCommand = (o: Options) => (require('./commands/peers') as typeof PeersModule).peersCommand(o);
const trustCommand = (o: Options) => (require('./commands/trust') as typeof TrustModule).trustCommand(o);
const agentModule = () => require('./commands/agent') as typeof AgentModule;
const mcpCommand = (o: McpModule.McpOptions) => (require('./commands/mcp') as typeof McpModule).mcpCommand(o);
// The skill catalog loads only for submit's help and a bad --size (each skill states its own sizes).
const demoSizes = () => require('./demo-sizes') as typeof DemoSizesModule;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Whole numbers from 1 up to `max` (by default the uint32 fields they end up in); the message names that range. */
function positiveInt(value: string, max = 0xffff_ffff, why = ''): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${max}${why}`);
  }
  return Number(value);
}

const MAX_EXECUTORS = 64;

function seed(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffff_ffff) throw new InvalidArgumentError('expected a whole number from 0 to 4294967295');
  return Number(value);
}

function timeoutMs(value: string): number {
  return positiveInt(value, MAX_TIMEOUT_MS, " (the node's longest task deadline, ms)");
}

function redundancy(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > MAX_REDUNDANCY) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_REDUNDANCY}`);
  return Number(value);
}

function shards(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > MAX_SHARDS) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_SHARDS}`);
  return Number(value);
}

/** `--size`: a whole number, checked against the skill's own limit once the skill is known. */
function size(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expected a whole number from 1 up to the skill's limit (${demoSizes().demoSizeLimitsText()})`);
  return Number(value);
}

function executors(value: string): number {
  return positiveInt(value, MAX_EXECUTORS);
}

function nodeCount(value: string): number {
  return positiveInt(value, MAX_NODES);
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** A whole number of credits from 1 up to the ledger's uint64. */
function creditAmount(value: string): bigint {
  if (!/^\d{1,20}$/.test(value) || BigInt(value) < 1n || BigInt(value) > MAX_UINT64) throw new InvalidArgumentError('expected a whole number of credits from 1');
  return BigInt(value);
}

/** What nats.js dials: a nats://, tls://, ws:// or wss:// URL (user:password@ allowed), or host:port (list with commas). */
const NATS_SERVER = /^((nats|tls|ws|wss):\/\/)?([A-Za-z0-9._~%!$&'()*+;=:-]+@)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

function natsUrl(value: string): string {
  if (value === '' || value.length > 2_048 || !value.split(',').every((server) => NATS_SERVER.test(server))) {
    throw new InvalidArgumentError('expected a NATS URL such as nats://127.0.0.1:4222 (or host:port; several with commas)');
  }
  return value;
}

function agentName(value: string): string {
  if (!AGENT_NAME.test(value)) throw new InvalidArgumentError(`expected ${AGENT_NAME_TEXT}, got ${[...value].length} characters`);
  return value;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** api-svc's bounds on an agent token's lifetime. */
const MIN_AGENT_TTL_MS = 60_000;
const MAX_AGENT_TTL_MS = 3_650 * 86_400_000;

/** `30m`, `12h`, `7d`, `2w`: a token lifetime in ms. */
function duration(value: string): number {
  const m = /^(\d{1,6})([mhdw])$/.exec(value);
  const ms = m ? Number(m[1]) * DURATION_UNITS_MS[m[2]] : 0;
  if (ms < MIN_AGENT_TTL_MS || ms > MAX_AGENT_TTL_MS) throw new InvalidArgumentError('expected a lifetime like 30m, 12h, 7d or 2w (at least 1m, at most 3650d)');
  return ms;
}

/**
 * A required option, checked in a hook: commander runs hooks after refusing unknown options, and
 * its own required-option check before, so `--skil matmul` would be reported as a missing
 * `--skill` rather than as the typo it is.
 */
function required(flags: string): (command: Command) => void {
  const name = new Option(flags).attributeName();
  return (command) => {
    if (command.getOptionValue(name) === undefined) throw new CommanderError(1, 'commander.missingMandatoryOptionValue', `error: required option '${flags}' not specified`);
  };
}

function build(): Command {
  const program = new Command('swarm')
    .description('SwarmHarness: share idle compute; run verified gpu.js tasks and settle credits')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  // --node names a node of the swarm in the data dir, --nats a bus: both at once would leave one unused.
  const nats = () => new Option('--nats <url>', 'NATS URL of a running node (default: $SWARM_NATS_URL, then the node in --data-dir)').argParser(natsUrl).conflicts('node');
  const dataDir = () => new Option('--data-dir <dir>', 'node home (default: $SWARM_HOME or ~/.swarmharness)');
  // The task commands also act as an agent over the HTTP API (agent-mode.ts has the rule).
  const apiUrl = () =>
    new Option(
      '--api-url <url>',
      'act as the agent whose token is in $SWARM_AGENT_TOKEN, through this agent HTTP API (default with $SWARM_AGENT_TOKEN or $SWARM_API_URL set and no --nats/--data-dir/--node: $SWARM_API_URL, then httpAddress in node.json)',
    );
  const json = () => new Option('--json', 'print one JSON document on stdout');
  const node = () =>
    new Option(
      '--node <i>',
      'node i of a swarm started by `swarm up --nodes N` in the data dir (home <data dir>/node-<i>; default node 1 there); before $SWARM_NATS_URL and $SWARM_API_URL',
    ).argParser(nodeCount);

  program
    .command('up')
    .description('start a full node (nats-server + credit, gateway, registry, executor, router and api services), or a swarm of N on loopback')
    .addOption(dataDir())
    .option(
      '--nodes <n>',
      `nodes of one swarm on this machine, 1 to ${MAX_NODES}, each in <data dir>/node-<i> (default 1: the data dir itself; ${DEMO_NODES} with --demo)`,
      nodeCount,
    )
    .option('--executors <n>', 'executor-svc replicas per node (one NATS queue group)', executors, 1)
    .option('--demo', `run a demo task of each skill from node 1 once the nodes are up (a swarm of ${DEMO_NODES} unless --nodes: one skill only on the last node)`)
    .option('--exit', 'stop the nodes after start-up (and the demo) instead of running until Ctrl-C')
    .addOption(json())
    .action(upCommand);

  program
    .command('submit')
    .description('run one task on the node and print the verified result')
    .option('--skill <name>', 'skill to run (see `swarm skills`), required')
    .hook('preAction', required('--skill <name>'))
    .option('--size <n>', 'generate demo input of size n (what n means per skill: below)', size)
    .option('--input <file>', `JSON input file: {"inputs":[{"name","shape","data"}]}, at most ${MAX_TASK_VALUES} values in all`)
    .option('--budget <credits>', 'most credits to pay (default: the task price, times --redundancy)')
    .option('--timeout <ms>', `task deadline in ms (default 30000, at most ${MAX_TIMEOUT_MS})`, timeoutMs)
    .option('--seed <n>', 'seed for generated input (default: derived from the idempotency key, --key or the one made up, so the same key is the same task)', seed)
    .option(
      '--key <key>',
      'idempotency key (1-64 of A-Za-z0-9._:-; default: a random one): the same key again never runs or charges the task twice; a lost reply is retried once by key',
    )
    .option(
      '--redundancy <k>',
      `run it on k different providers, 1 to ${MAX_REDUNDANCY} (default 1): each result is verified and compared, the default budget is k × the price, and the agreeing ones share the pay`,
      redundancy,
    )
    .option(
      '--shards <s>',
      `matmul only, not with --redundancy: split a into s row blocks, 1 to ${MAX_SHARDS} (default 1), each run on a provider and verified; pays the whole product's price only when every block is verified, each provider by its blocks' share`,
      shards,
    )
    .addOption(apiUrl())
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .addHelpText('after', () => demoSizes().demoSizesHelp())
    .action(submitCommand);

  program
    .command('balance')
    .description('show an account balance')
    .option('--account <id>', 'account (default: the node account; not with an agent token: an agent sees its own)')
    .addOption(apiUrl())
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action(balanceCommand);
  program
    .command('skills')
    .description('list installed skills and their prices')
    .addOption(apiUrl())
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action(skillsCommand);
  program.command('health').description("show each service's health").addOption(nats()).addOption(dataDir()).addOption(node()).addOption(json()).action(healthCommand);
  program
    .command('peers')
    .description("list the peer nodes the node's registry knows on the DHT (node id, gateway address, round trip, last seen)")
    .addOption(apiUrl())
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action(peersCommand);
  program
    .command('task')
    .description('show what happened to a task: running, paid (cost), refunded or rejected (why); exits 1 with SWARM_TASK_UNKNOWN if the node does not know it')
    .argument('[task-id]', 'the task id a submit printed')
    .option('--key <key>', 'the idempotency key it was submitted with, instead of its id (not over the agent API: by id only)')
    .addOption(apiUrl())
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action(taskCommand);
  program
    .command('ledger')
    .description(
      "show the node's chain of signed blocks (docs/chain.md) after auditing it here, independently of the node: node id, head, balances derived from the chain, the last 20 blocks; exits 1 with SWARM_AUDIT_FAILED if it fails",
    )
    .option(
      '--audit',
      "also have credit-svc recompute every balance and escrow from the ledger's entry log and compare them with the stored ones; exits 1 if either audit finds a problem",
    )
    .option(
      '--peer <node-id>',
      "audit another node's chain instead (its 64 hex characters, or the first 12 or more of a peer this node knows, as tables print them: `swarm peers`), fetched through this node's gateway; always audited, with or without --audit (an unaudited peer chain means nothing); a fork's proof is kept in <data-dir>/chain-evidence and sent to the node's router, which then never dispatches to that node; so is a broken void's (a voided receipt the peer kept anyway), and this node then pays that receipt after all",
      (value: string) => {
        if (!/^[0-9a-fA-F]{12,64}$/.test(value)) throw new InvalidArgumentError('expected a node id: 64 hex characters, or the first 12 or more of a known peer');
        return value.toLowerCase();
      },
    )
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action(ledgerCommand);
  program
    .command('trust')
    .description(
      "show how much the node's router trusts the nodes it has dispatched to (0 new or failed .. 1), most trusted first, and the nodes a proof of a fork or a broken void convicted (operator only)",
    )
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action(trustCommand);
  const agent = program.command('agent').description("manage the node's agents: accounts funded from the node's credit, with a token for the HTTP API (operator only)");
  agent
    .command('add')
    .description("create an agent, fund its account from the node's credit and print its token (shown once)")
    .argument('<name>', `agent name: ${AGENT_NAME_TEXT}`, agentName)
    .option('--budget <credits>', 'credits to move into its account: the most it can ever spend, required', creditAmount)
    .hook('preAction', required('--budget <credits>'))
    .option('--expires <lifetime>', 'token lifetime, e.g. 30m, 12h, 7d, 2w (default: no expiry)', duration)
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action((name: string, o: AgentModule.AgentAddOptions) => agentModule().agentAddCommand(name, o));
  agent
    .command('list')
    .description('list the agents: budget, available credit, spend, tasks, expiry, state')
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action((o: AgentModule.AgentOptions) => agentModule().agentListCommand(o));
  agent
    .command('revoke')
    .description("revoke an agent: its token stops at once and its unspent credit returns to the node's account")
    .argument('<name>', `agent name: ${AGENT_NAME_TEXT}`, agentName)
    .addOption(nats())
    .addOption(dataDir())
    .addOption(node())
    .addOption(json())
    .action((name: string, o: AgentModule.AgentOptions) => agentModule().agentRevokeCommand(name, o));
  program
    .command('mcp')
    .description("serve MCP on stdio as the agent whose token is in $SWARM_AGENT_TOKEN, through the node's agent HTTP API")
    .option('--api-url <url>', "the node's agent HTTP API (default: $SWARM_API_URL, then httpAddress in the node's node.json)")
    .addOption(dataDir())
    .addOption(node())
    .action(mcpCommand);
  return program;
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    if (err.code === 'commander.help') {
      // `swarm help [command]` asked for it (exit code 0); `swarm` with no command, or `help` of a
      // command there is none of: the help went to stderr, and it is bad usage, not success.
      if (err.exitCode === 0) return EXIT_OK;
      const args = process.argv.slice(2);
      const asked = args.indexOf('help');
      const line =
        asked >= 0 && args[asked + 1] !== undefined
          ? `there is no command '${args[asked + 1]}' to give help on: the commands are listed above`
          : 'no command given: the commands are listed above';
      process.stderr.write(`error SWARM_BAD_ARGS: ${shownErrorMessage(line)}\n`);
      if (args.includes('--json')) printJson({ error: { code: 'SWARM_BAD_ARGS', message: cappedErrorMessage(line), exitStatus: EXIT_USAGE } });
      return EXIT_USAGE;
    }
    // One line: commander's suggestion for a typo ("(Did you mean --skill?)") comes on its second.
    const message = err.message
      .replace(/^error: /, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join(' ');
    // Commander quotes the value it refused: shown, not acted on, and bounded.
    process.stderr.write(`error SWARM_BAD_ARGS: ${shownErrorMessage(message)}\n`);
    if (process.argv.includes('--json')) printJson({ error: { code: 'SWARM_BAD_ARGS', message: cappedErrorMessage(message), exitStatus: EXIT_USAGE } });
    return EXIT_USAGE;
  }
  const cliError = toCliError(err);
  const hint = cliError.code === 'SWARM_NO_NODE' ? operatorOnlyHint(process.argv.slice(2)) : undefined;
  const e = hint ? new CliError(cliError.code, `${cliError.message}. ${hint}`) : cliError;
  // One line, whatever the message holds (a JSON parser's quotes the text it failed on, newlines and
  // all; a refusal may quote a name with escape sequences in it), and bounded.
  process.stderr.write(`error ${e.code}: ${shownErrorMessage(e.message)}\n`);
  const status = exitStatusOf(e);
  // `--json` promises one document on stdout: a program parsing it gets the error as JSON too
  // (unless the command already printed its document, e.g. a failed audit's report).
  if (process.argv.includes('--json') && !printedJson()) printJson({ error: { code: e.code, message: cappedErrorMessage(e.message), exitStatus: status } });
  return status;
}

if (process.argv[2] === 'submit') {
  interruptsBeforeSending((message) => {
    const status = report(new CliError('SWARM_INTERRUPTED', message));
    void flushOutput().then(() => process.exit(status));
  });
}

let outputFailed = false;
guardOutput((err) => {
  if (outputFailed) return;
  outputFailed = true;
  // A submit's answer that cannot be written is lost to its reader: the key is how to get it again.
  const sent = sentTaskHint();
  process.stderr.write(`error SWARM_OS_ERROR: cannot write the output: ${err.message}${sent ? `; ${sent}` : ''}\n`);
});

void build()
  .parseAsync(process.argv)
  // A command may set process.exitCode itself (`swarm up` interrupted while starting: 130).
  .then(() => (typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK), report)
  .then(async (status) => {
    // Exit only once the output has reached the reader: a piped JSON document arrives whole.
    await flushOutput();
    process.exit(outputFailed && status === EXIT_OK ? EXIT_FAILURE : status);
  });
