import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type {
  CanUseTool,
  Options,
  PermissionResult,
  SDKAssistantMessageError,
  SDKMessage,
  SDKResultMessage,
  SpawnedProcess,
  SpawnOptions,
} from '@anthropic-ai/claude-agent-sdk';
import type { Usage } from '../../../contract/thread.js';
import { logOutput, protocolStream } from '../output-lines.js';
import { KILL_GRACE_MS, killTree, spawnInSandbox, type SandboxProcess } from '../sandbox-process.js';
import { routeOf, type EgressRoute } from '../egress-proxy.js';
import { readTaskFile, writeTaskFile } from '../task-files.js';
import type { AgentOutcome, AgentRequest, AgentRuntime, AskedQuestion, RuntimeAvailability } from '../runtime.js';
import { hasOauthEntry } from '../../models/index.js';

type AgentSdk = typeof import('@anthropic-ai/claude-agent-sdk');
/** Loaded at the first run: the SDK is large and many set-ups never use it (start-up time). */
let agentSdk: Promise<AgentSdk> | undefined;
const loadAgentSdk = () => (agentSdk ??= import('@anthropic-ai/claude-agent-sdk'));

/** Claude Code's alias for its newest, most capable Opus (the bundled CLI resolves it to `claude-opus-5-5`). */
export const DEFAULT_CLAUDE_CODE_MODEL = 'opus';

/** How much of one tool result goes into the log. */
const TOOL_RESULT_LOG_CHARS = 2000;
/** How many stderr lines a failure's message may quote. */
const STDERR_TAIL_LINES = 20;

/** The tools that stop a run: the person answers a question or approves a plan, maybe days later. */
const ASK_TOOL = 'AskUserQuestion';
const PLAN_TOOL = 'ExitPlanMode';

/** Tools that change a file named in their input: only inside the workspace (Bash is the sandbox's matter). */
const FILE_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);

/**
 * Tools that make no sense for a worker whose every run ends: scheduling itself for later, its own
 * worktrees (mainloop gives it one), and switching its own permission mode (mainloop decides).
 */
const DISALLOWED_TOOLS = [
  'CronCreate',
  'CronDelete',
  'CronList',
  'ScheduleWakeup',
  'EnterWorktree',
  'ExitWorktree',
  'EnterPlanMode',
];

const ANTHROPIC_API_URL = 'https://api.anthropic.com';
/** Where a subscription's sign-in is refreshed (Claude Code's OAuth endpoints). */
const CLAUDE_SIGN_IN_HOSTS = ['console.anthropic.com', 'platform.claude.com', 'claude.ai'];

export interface ClaudeCodeRuntimeOptions {
  /** the model when a task names none (default: `opus`, Claude Code's newest Opus) */
  defaultModel?: string;
  /** an Anthropic API key (billed per token); wins over the subscription when both are set */
  anthropic?: { apiKey?: string; baseUrl?: string };
  /**
   * The person's Claude subscription: a token from `claude setup-token` (preferred), or the
   * directory where a signed-in Claude Code keeps `.credentials.json` (default `~/.claude`).
   */
  claudeCode?: { oauthToken?: string; configDir?: string };
  /** default: the CLI bundled with the Agent SDK */
  pathToClaudeCodeExecutable?: string;
  /** default: this user's home directory (where `~/.claude` is looked for) */
  homeDir?: string;
}

type Credentials =
  | { kind: 'api-key'; env: Record<string, string>; description: string }
  | { kind: 'oauth-token'; env: Record<string, string>; description: string }
  | { kind: 'credentials-file'; file: string; description: string };

/**
 * `claude-code`: Claude Code through the Claude Agent SDK, one CLI process per run, spawned
 * through the task's sandbox.
 *
 * - `plan` runs in Claude Code's plan mode (read-only). When the agent calls ExitPlanMode, the
 *   plan (the tool's input, which Claude Code fills from its plan file) ends the run as `plan`.
 * - `implement` runs in `acceptEdits` with every other tool allowed by the permission callback:
 *   the sandbox, not a prompt, is the boundary. Ends `done` with Claude Code's final text.
 * - AskUserQuestion (either mode) ends the run as `question`. Both tools are stopped in the
 *   permission callback with deny + interrupt: the tool does not run and the CLI ends its turn,
 *   so no process waits for the person. The next run resumes the session with the answers.
 *
 * Credentials are handed to the CLI explicitly, never from this process's environment: an API
 * key as ANTHROPIC_API_KEY, else a subscription token as CLAUDE_CODE_OAUTH_TOKEN, else the
 * person's `.credentials.json`, copied into the task's HOME for the run and removed after it (a
 * token the CLI refreshed meanwhile is written back, so the person's own sign-in stays valid).
 * None of the person's settings, hooks, plugins or MCP servers are loaded.
 */
export class ClaudeCodeRuntime implements AgentRuntime {
  readonly name = 'claude-code';
  private readonly defaultModel: string;

  constructor(private readonly options: ClaudeCodeRuntimeOptions = {}) {
    this.defaultModel = options.defaultModel ?? DEFAULT_CLAUDE_CODE_MODEL;
  }

  async availability(): Promise<RuntimeAvailability> {
    const credentials = await this.credentials();
    if (credentials) return { available: true, reason: `runs Claude Code with ${credentials.description}` };
    return {
      available: false,
      reason:
        'Claude Code has no credentials: set ANTHROPIC_API_KEY, or sign in to your Claude subscription ' +
        `(run \`claude setup-token\` and set CLAUDE_CODE_OAUTH_TOKEN, or run \`claude\` and /login so that ${this.credentialsFile()} exists).`,
    };
  }

  /** The Messages API it was given; with a subscription, also where Claude Code refreshes its sign-in. */
  egress(): EgressRoute[] {
    const { anthropic } = this.options;
    const api = routeOf(anthropic?.baseUrl ?? ANTHROPIC_API_URL);
    if (anthropic?.apiKey) return [api];
    return [api, ...CLAUDE_SIGN_IN_HOSTS.map((host) => ({ host, port: 443 }))];
  }

  async run(request: AgentRequest): Promise<AgentOutcome> {
    if (request.signal.aborted) return { kind: 'failed', error: 'stopped' };
    const home = request.env.HOME;
    if (!home) return { kind: 'failed', error: 'the task has no HOME for Claude Code to keep its session in' };
    const credentials = await this.credentials();
    if (!credentials) return { kind: 'failed', error: (await this.availability()).reason };

    const env: Record<string, string> = {
      ...request.env,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      ...(credentials.kind === 'credentials-file' ? {} : credentials.env),
    };
    let borrowed: BorrowedCredentials | undefined;
    if (credentials.kind === 'credentials-file') {
      try {
        borrowed = await BorrowedCredentials.copy(credentials.file, claudeConfigDir(env), request);
      } catch (error) {
        return { kind: 'failed', error: `could not hand Claude Code its sign-in: ${messageOf(error)}` };
      }
    }
    try {
      return await new ClaudeCodeRun(request, env, this.options.pathToClaudeCodeExecutable).run(
        request.model ?? this.defaultModel,
      );
    } finally {
      await borrowed?.giveBack().catch((error: unknown) => {
        request.log({ kind: 'system', text: `could not return Claude Code's sign-in: ${messageOf(error)}` });
      });
    }
  }

  private async credentials(): Promise<Credentials | undefined> {
    const { anthropic, claudeCode } = this.options;
    if (anthropic?.apiKey) {
      return {
        kind: 'api-key',
        env: {
          ANTHROPIC_API_KEY: anthropic.apiKey,
          ...(anthropic.baseUrl ? { ANTHROPIC_BASE_URL: anthropic.baseUrl } : {}),
        },
        description: 'the Anthropic API key (ANTHROPIC_API_KEY)',
      };
    }
    if (claudeCode?.oauthToken) {
      return {
        kind: 'oauth-token',
        env: { CLAUDE_CODE_OAUTH_TOKEN: claudeCode.oauthToken },
        description: 'your Claude subscription (CLAUDE_CODE_OAUTH_TOKEN)',
      };
    }
    const file = this.credentialsFile();
    if (await hasOauthEntry(file)) {
      return { kind: 'credentials-file', file, description: `your Claude subscription (signed in at ${file})` };
    }
    return undefined;
  }

  private credentialsFile(): string {
    const configDir = this.options.claudeCode?.configDir ?? path.join(this.options.homeDir ?? os.homedir(), '.claude');
    return path.join(configDir, '.credentials.json');
  }
}

/** One CLI process, from spawn to outcome. */
class ClaudeCodeRun {
  private sessionId: string | undefined;
  /** set by the permission callback when the agent asked or proposed: the run ends with it */
  private suspension: AgentOutcome | undefined;
  private lastText = '';
  private readonly toolNames = new Map<string, string>();
  /** the question or plan calls this run ended at: their "rejected" results are not news */
  private readonly stoppedToolUses = new Set<string>();
  private readonly children: SandboxProcess[] = [];
  private readonly stderrTail: string[] = [];
  private readonly stderrDone: Array<Promise<void>> = [];
  private apiError: SDKAssistantMessageError | undefined;
  /** set when the CLI wrote a line too long to be one of its messages: the run ends with it */
  private overlong: string | undefined;

  constructor(
    private readonly request: AgentRequest,
    private readonly env: Record<string, string>,
    private readonly executable: string | undefined,
  ) {
    this.sessionId = request.sessionId;
  }

  async run(model: string): Promise<AgentOutcome> {
    const { request } = this;
    const abortController = new AbortController();
    const forwardAbort = () => abortController.abort(request.signal.reason);
    request.signal.addEventListener('abort', forwardAbort, { once: true });
    const ledger = new UsageLedger(request.stateDir);
    let query: ReturnType<AgentSdk['query']> | undefined;
    try {
      const sdk = await loadAgentSdk();
      query = sdk.query({ prompt: request.prompt, options: this.options(model, abortController) });
      for await (const message of query) {
        this.accept(message);
        if (message.type === 'result') return await this.finish(message, ledger);
      }
      return this.failed(this.overlong ?? `Claude Code stopped without a result${this.stderrSuffix()}`);
    } catch (error) {
      if (request.signal.aborted) return { kind: 'failed', error: 'stopped', sessionId: this.sessionId };
      if (this.suspension) return this.suspension;
      if (this.overlong) return this.failed(this.overlong);
      return this.failed(describeCliFailure(error, this.stderrSuffix()));
    } finally {
      request.signal.removeEventListener('abort', forwardAbort);
      query?.close();
      await this.waitForExit();
    }
  }

  private options(model: string, abortController: AbortController): Options {
    const { request } = this;
    const plan = request.mode === 'plan';
    return {
      model,
      cwd: request.cwd,
      env: this.env,
      resume: request.sessionId,
      abortController,
      pathToClaudeCodeExecutable: this.executable,
      spawnClaudeCodeProcess: (options) => this.spawn(options),
      permissionMode: plan ? 'plan' : 'acceptEdits',
      canUseTool: this.decide,
      disallowedTools: DISALLOWED_TOOLS,
      settingSources: [],
      strictMcpConfig: true,
      mcpServers: {},
      mcpServersDelivery: 'initialize',
    };
  }

  /** Claude Code asks before a tool that its permission mode does not allow by itself. */
  private readonly decide: CanUseTool = async (toolName, input, { toolUseID }) => {
    if (toolName === ASK_TOOL) {
      const questions = askedQuestions(input);
      if (questions.length === 0) return { behavior: 'deny', message: 'Ask at least one question, as `questions`.' };
      this.suspension = { kind: 'question', questions, sessionId: this.sessionId };
      this.stoppedToolUses.add(toolUseID);
      return stop('mainloop passed your questions to the person; their answers arrive as the next message.');
    }
    if (toolName === PLAN_TOOL) {
      if (this.request.mode !== 'plan') return { behavior: 'allow', updatedInput: input };
      const plan = await this.planText(input);
      this.suspension = { kind: 'plan', plan, sessionId: this.sessionId };
      this.stoppedToolUses.add(toolUseID);
      return stop('mainloop passed your plan to the person; their approval or feedback arrives as the next message.');
    }
    if (this.request.mode === 'plan') {
      return {
        behavior: 'deny',
        message: 'This is plan mode: only read-only tools may run until the plan is approved.',
      };
    }
    const file = typeof input.file_path === 'string' ? input.file_path : input.notebook_path;
    if (FILE_TOOLS.has(toolName) && typeof file === 'string' && !isInside(file, this.request.cwd)) {
      return { behavior: 'deny', message: `Only files inside the workspace (${this.request.cwd}) may be changed.` };
    }
    return { behavior: 'allow', updatedInput: input };
  };

  /** The plan as Claude Code hands it to the permission callback, else its plan file, else the last text. */
  private async planText(input: Record<string, unknown>): Promise<string> {
    if (typeof input.plan === 'string' && input.plan.trim()) return input.plan.trim();
    const file = input.planFilePath;
    if (typeof file === 'string') {
      // The plan file is the task's: a regular file inside its Claude config, of a plan's size.
      const text = await readTaskFile(file, { within: claudeConfigDir(this.env), maxBytes: MAX_PLAN_FILE_BYTES });
      if (text?.trim()) return text.trim();
    }
    return this.lastText;
  }

  private spawn(options: SpawnOptions): SpawnedProcess {
    const env = Object.fromEntries(
      Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const child = spawnInSandbox(this.request.sandbox, options.command, options.args, {
      cwd: options.cwd ?? this.request.cwd,
      env,
      // The SDK's own signal fires after its grace period on close; a cancelled task stops at once.
      signal: AbortSignal.any([options.signal, this.request.signal]),
      stdin: true,
    });
    this.children.push(child);
    this.stderrDone.push(
      logOutput(child.stderr, {
        kind: 'stderr',
        log: this.request.log,
        tail: this.stderrTail,
        tailLines: STDERR_TAIL_LINES,
        skipBlank: true,
      }),
    );
    // The SDK reads whole lines of stdout (readline): one longer than any message ends the run
    // before the SDK holds it.
    const stdout = protocolStream(child.stdout, (what) => {
      this.overlong = `Claude Code wrote ${what}, which is none of its messages: stopped`;
      killTree(child);
    });
    // stdin is a pipe (spawnInSandbox with `stdin: true`), as SpawnedProcess needs
    return withStdout(child, stdout);
  }

  /** Every process of the run has exited before the run resolves: the CLI normally ends by itself. */
  private async waitForExit(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        // (`ended` also settles when it never started, and there is no 'exit' to wait for)
        const timer = setTimeout(() => killTree(child), KILL_GRACE_MS);
        await child.ended;
        clearTimeout(timer);
      }),
    );
    await Promise.all(this.stderrDone);
  }

  private accept(message: SDKMessage): void {
    const log = this.request.log;
    if ('session_id' in message && typeof message.session_id === 'string') this.sessionId = message.session_id;
    if (this.suspension) this.suspension.sessionId = this.sessionId;
    switch (message.type) {
      case 'system':
        if (message.subtype === 'init') {
          log({
            kind: 'system',
            text: `Claude Code ${message.claude_code_version}, model ${message.model}, ${message.permissionMode} mode, session ${message.session_id}`,
          });
        } else if (message.subtype === 'api_retry') {
          const status = message.error_status ? ` ${message.error_status}` : '';
          log({
            kind: 'system',
            text: `API error${status} (${message.error}); retry ${message.attempt} of ${message.max_retries} in ${Math.round(message.retry_delay_ms / 100) / 10} s`,
          });
        }
        return;
      case 'assistant':
        if (message.error) this.apiError = message.error;
        for (const block of message.message.content) {
          if (block.type === 'text' && block.text.trim() && !message.error) {
            if (message.parent_tool_use_id === null) this.lastText = block.text.trim();
            log({ kind: 'agent', text: block.text.trim() });
          } else if (block.type === 'tool_use') {
            this.toolNames.set(block.id, block.name);
            log({ kind: 'tool', text: describeToolUse(block.name, block.input, this.request.cwd) });
          }
        }
        return;
      case 'user': {
        const content = message.message.content;
        if (typeof content === 'string') return;
        for (const block of content) {
          if (block.type !== 'tool_result' || this.stoppedToolUses.has(block.tool_use_id)) continue;
          const text = toolResultText(block.content);
          const name = this.toolNames.get(block.tool_use_id) ?? 'tool';
          const error = block.is_error ? ' (error)' : '';
          log({
            kind: 'tool_result',
            text: truncate(`${name}${error}: ${text || '(no output)'}`, TOOL_RESULT_LOG_CHARS),
          });
        }
        return;
      }
      default:
        return;
    }
  }

  private async finish(result: SDKResultMessage, ledger: UsageLedger): Promise<AgentOutcome> {
    this.sessionId = result.session_id;
    const usage = await ledger.record(result);
    const cost = usage.costUsd !== undefined ? `, $${usage.costUsd.toFixed(4)}` : '';
    this.request.log({
      kind: 'system',
      text: `Claude Code finished (${result.subtype}${result.is_error ? ', error' : ''}) after ${result.num_turns} turns${cost}`,
    });
    if (this.suspension) return { ...this.suspension, sessionId: this.sessionId, usage };
    if (result.subtype === 'success' && !result.is_error) {
      const text = result.result.trim() || this.lastText;
      // A planning turn that ended without ExitPlanMode (research, a short answer): its text is the plan.
      if (this.request.mode === 'plan') return { kind: 'plan', plan: text, sessionId: this.sessionId, usage };
      return { kind: 'done', summary: text || undefined, sessionId: this.sessionId, usage };
    }
    const reason = result.subtype === 'success' ? result.result : describeResultError(result);
    return { ...this.failed(describeApiError(this.apiError, reason)), usage };
  }

  private failed(error: string): AgentOutcome {
    return { kind: 'failed', error, sessionId: this.sessionId };
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.join('\n').trim();
    return tail ? `: ${truncate(tail, 1000)}` : '';
  }
}

/** `child` as the SDK sees it, reading `stdout` instead of the child's own. */
function withStdout(child: SandboxProcess, stdout: Readable): SpawnedProcess {
  return {
    stdin: child.stdin!,
    stdout,
    get killed() {
      return child.killed;
    },
    get exitCode() {
      return child.exitCode;
    },
    get signalCode() {
      return child.signalCode;
    },
    kill: (signal) => child.kill(signal),
    on: child.on.bind(child),
    once: child.once.bind(child),
    off: child.off.bind(child),
  };
}

/** deny + interrupt: the tool does not run and Claude Code ends its turn (the CLI exits). */
function stop(message: string): PermissionResult {
  return { behavior: 'deny', message, interrupt: true };
}

function askedQuestions(input: Record<string, unknown>): AskedQuestion[] {
  const questions = Array.isArray(input.questions) ? (input.questions as unknown[]) : [];
  return questions.flatMap((value): AskedQuestion[] => {
    if (typeof value !== 'object' || value === null) return [];
    const question = value as { question?: unknown; header?: unknown; options?: unknown; multiSelect?: unknown };
    if (typeof question.question !== 'string') return [];
    const options = Array.isArray(question.options) ? (question.options as unknown[]) : [];
    return [
      {
        header: typeof question.header === 'string' ? question.header : undefined,
        text: question.question,
        options: options.flatMap((option) => {
          if (typeof option !== 'object' || option === null) return [];
          const { label, description } = option as { label?: unknown; description?: unknown };
          if (typeof label !== 'string') return [];
          return [{ label, ...(typeof description === 'string' ? { description } : {}) }];
        }),
        multiSelect: question.multiSelect === true,
      },
    ];
  });
}

/** A tool call as one short log line: `Edit src/x.ts`, `Bash: npm test`. */
export function describeToolUse(name: string, input: unknown, cwd: string): string {
  const fields = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : undefined);
  if (name === PLAN_TOOL) return name;
  if (name === ASK_TOOL)
    return truncate(
      `${name}: ${askedQuestions(fields)
        .map((question) => question.text)
        .join(' / ')}`,
      200,
    );
  const file = text('file_path') ?? text('notebook_path');
  if (file) return `${name} ${path.isAbsolute(file) && isInside(file, cwd) ? path.relative(cwd, file) : file}`;
  const detail =
    text('command') ?? text('pattern') ?? text('url') ?? text('query') ?? text('description') ?? text('prompt');
  if (detail) return truncate(`${name}: ${detail.replace(/\s+/g, ' ').trim()}`, 200);
  const json = JSON.stringify(fields);
  return json === '{}' ? name : truncate(`${name} ${json}`, 200);
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: string; text?: string }) => (part.type === 'text' ? (part.text ?? '') : `[${part.type}]`))
    .join('\n');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(path.resolve(dir), path.resolve(file));
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** Where the CLI keeps its state for this task: CLAUDE_CONFIG_DIR, or `.claude` in the task's HOME. */
function claudeConfigDir(env: Record<string, string>): string {
  return env.CLAUDE_CONFIG_DIR ?? path.join(env.HOME ?? os.homedir(), '.claude');
}

function describeResultError(result: SDKResultMessage): string {
  switch (result.subtype) {
    case 'error_max_turns':
      return 'it reached its limit of turns';
    case 'error_max_budget_usd':
      return 'it reached its budget';
    case 'success':
      return result.result;
    default:
      return result.errors.join('; ') || 'it ended with an error';
  }
}

/** A failure Claude Code reported, as a sentence for the person. */
function describeApiError(code: SDKAssistantMessageError | undefined, detail: string): string {
  const text = detail.replace(/^API Error:\s*/, '').trim();
  switch (code) {
    case 'authentication_failed':
    case 'oauth_org_not_allowed':
    case 'cloud_credential_error':
      return `Claude Code could not sign in: the API refused its credentials (${text}). Check ANTHROPIC_API_KEY, or sign in to Claude Code again.`;
    case 'billing_error':
    case 'account_on_hold':
      return `Claude Code cannot use this account: ${text}`;
    case 'rate_limit':
      return `Claude Code hit the API's rate limit and gave up after its retries: ${text}`;
    case 'overloaded':
    case 'server_error':
      return `The model API kept failing, and Claude Code gave up after its retries: ${text}`;
    default:
      return `Claude Code stopped: ${text}`;
  }
}

/** The SDK threw: the CLI did not start, crashed, or reported an error result. */
function describeCliFailure(error: unknown, stderr: string): string {
  const message = messageOf(error);
  const reported = /Claude Code returned an error result: (.*)$/s.exec(message)?.[1];
  if (reported) return `Claude Code stopped: ${reported.trim()}`;
  return `Claude Code could not run: ${message}${stderr}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The person's `.credentials.json`, copied into the task's Claude config for one run. Afterwards
 * the copy is removed; if the CLI refreshed the token meanwhile (and the person's file did not
 * change), the refreshed one is written back, since the old refresh token may no longer work. The
 * copy is in the task's HOME, which the task writes: it is written as a new file (never through a
 * link the task left there), and what comes back is taken only as a regular file of a credential's
 * size holding a sign-in of the same kind (docs/decisions/0019-task-sandbox.md).
 */
class BorrowedCredentials {
  private constructor(
    private readonly source: string,
    private readonly copy: string,
    private readonly configDir: string,
    private readonly original: string,
  ) {}

  static async copy(source: string, configDir: string, request: AgentRequest): Promise<BorrowedCredentials> {
    const original = await readFile(source, 'utf8');
    const copy = path.join(configDir, '.credentials.json');
    await writeTaskFile(copy, original, { within: request.env.HOME!, mode: 0o600 });
    await request.sandbox.adopt(configDir, copy);
    return new BorrowedCredentials(source, copy, configDir, original);
  }

  async giveBack(): Promise<void> {
    const after = await readTaskFile(this.copy, { within: this.configDir, maxBytes: MAX_CREDENTIALS_BYTES });
    await rm(this.copy, { force: true });
    if (!after || after === this.original || !sameKindOfSignIn(this.original, after)) return;
    if (!(await hasOauthEntry(this.source))) return;
    const current = await readFile(this.source, 'utf8').catch(() => undefined);
    if (current !== this.original) return; // the person's CLI refreshed it too: theirs wins
    const temporary = `${this.source}.${randomUUID()}.tmp`;
    await writeFile(temporary, after, { mode: 0o600 });
    await rename(temporary, this.source);
  }
}

/** The largest credentials file taken back from a task (a sign-in is a few hundred bytes). */
const MAX_CREDENTIALS_BYTES = 64 * 1024;
/** The largest plan file read from a task's Claude config. */
const MAX_PLAN_FILE_BYTES = 1024 * 1024;

/** Whether `after` is a refreshed sign-in of `before`'s kind: tokens, an expiry, the same scopes and subscription. */
function sameKindOfSignIn(before: string, after: string): boolean {
  const entry = (text: string): Record<string, unknown> | undefined => {
    try {
      const value = (JSON.parse(text) as { claudeAiOauth?: unknown }).claudeAiOauth;
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const [old, fresh] = [entry(before), entry(after)];
  if (!old || !fresh) return false;
  return (
    typeof fresh.accessToken === 'string' &&
    typeof fresh.refreshToken === 'string' &&
    typeof fresh.expiresAt === 'number' &&
    JSON.stringify(fresh.scopes) === JSON.stringify(old.scopes) &&
    fresh.subscriptionType === old.subscriptionType
  );
}

/**
 * What a run cost. Claude Code's result carries per-run tokens (`usage`) but a session-long cost
 * (`total_cost_usd`, carried across `resume`). The ledger keeps each session's last total in the
 * task's state directory (mainloop's, not the task's) so that a run reports its own cost, not the session's.
 */
class UsageLedger {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'claude-code-costs.json');
  }

  async record(result: SDKResultMessage): Promise<Usage> {
    const totals = await this.read();
    const before = totals[result.session_id] ?? 0;
    const total = result.total_cost_usd;
    // A total below the recorded one means the CLI did not carry the session's cost: it is this run's.
    const costUsd = total >= before ? total - before : total;
    if (total > 0) {
      // (a zeroed total comes from a run that failed to start: the session's total stays)
      totals[result.session_id] = total;
      await mkdir(path.dirname(this.file), { recursive: true })
        .then(() => writeFile(this.file, JSON.stringify(totals)))
        .catch(() => undefined); // the next run of this session then reports the session's total
    }
    const usage = result.usage;
    return {
      inputTokens: usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens,
      outputTokens: usage.output_tokens,
      costUsd: Math.round(costUsd * 1e6) / 1e6,
    };
  }

  private async read(): Promise<Record<string, number>> {
    try {
      const value = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return typeof value === 'object' && value !== null ? (value as Record<string, number>) : {};
    } catch {
      return {};
    }
  }
}
