import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { routeOf, type EgressRoute } from '../egress-proxy.js';
import { logOutput, MAX_PROTOCOL_LINE_BYTES, protocolStream, readLines } from '../output-lines.js';
import { killTree, spawnInSandbox } from '../sandbox-process.js';
import { isWithin } from '../sandbox.js';
import type {
  AgentLogEntry,
  AgentOutcome,
  AgentRequest,
  AgentRuntime,
  AskedQuestion,
  RuntimeAvailability,
} from '../runtime.js';
import type { Usage } from '../../../contract/thread.js';

export interface CodexRuntimeOptions {
  /**
   * An OpenAI API key, and/or another Responses-API endpoint (a proxy, a gateway, a local server).
   * With either set, Codex talks to that endpoint as a model provider of mainloop's own
   * (`wire_api = "responses"`), the key handed to it as OPENAI_API_KEY.
   */
  openai?: { apiKey?: string; baseUrl?: string };
  /**
   * A Codex home to use for every task instead of one per task: where a `codex login` (ChatGPT
   * sign-in, auth.json) lives. Codex writes its sessions there, so under bubblewrap it must be
   * one of the sandbox's writable paths.
   */
  codexHome?: string;
  /** the Codex CLI: a path, or a name looked up on PATH (default `codex`) */
  executable?: string;
  /** the model when a task names none; undefined: Codex's own default */
  defaultModel?: string;
  /** where `availability()` looks for the executable (default: the server's PATH) */
  searchPath?: string;
}

/** How much of a command's output one log line carries (the agent sees it all). */
export const TOOL_RESULT_LIMIT = 2_000;
/** How many of the CLI's last stderr lines a failure carries. */
const ERROR_TAIL_LINES = 10;
/** The info string of the fenced block an agent asks the person with. */
export const QUESTION_FENCE = 'mainloop-question';
/** mainloop's model provider in Codex's config, used when an API key or base URL is given. */
const PROVIDER_ID = 'mainloop';
const OPENAI_API_URL = 'https://api.openai.com/v1';
/** Where a ChatGPT sign-in is refreshed and used (Codex without an API key). */
const CHATGPT_HOSTS = ['auth.openai.com', 'chatgpt.com'];
const INSTALL_HINT = 'install it with `npm i -g @openai/codex`';

/**
 * `codex`: OpenAI's Codex CLI, run non-interactively. Each run is one process,
 * `codex exec --json [options] -` (or `codex exec [options] resume <session id> -` to continue a
 * session), the prompt on stdin (any length, never mistaken for a flag). stdout is Codex's
 * JSON-lines event stream (`thread.started {thread_id}`, `turn.started`,
 * `item.started|updated|completed {item}`, `turn.completed {usage}`, `turn.failed {error}`,
 * `error`); the thread id is the session id. Every item becomes a log line; the last
 * `agent_message` is the plan, the summary, or carries questions.
 *
 * Usage: `turn.completed` reports the thread's total so far, not the run's; the totals are kept in
 * the task's state directory (mainloop's), and a run reports the difference. No cost: Codex does
 * not report prices.
 *
 * Questions: `codex exec` has no way to ask (its `request_user_input` tool is refused outside its
 * TUI's plan mode). So the prompt's preamble tells the agent that when it needs the person, it ends
 * its final message with one fenced block
 *
 *     ```mainloop-question
 *     {"questions":[{"header":"Database","question":"Which database?","options":[{"label":"Postgres",
 *       "description":"…"}],"multiSelect":false}]}
 *     ```
 *
 * and stops. The run's outcome is then `question` (a block that is not valid JSON still reaches
 * the person, as one open question with its text), and the next run resumes the session with a
 * prompt that carries the answers.
 *
 * Sandbox: inside mainloop's bubblewrap Codex runs with `--dangerously-bypass-approvals-and-sandbox`:
 * mainloop's sandbox already confines it (a `plan` run sees its workspace read-only, an `implement`
 * run may write there and in its home), and Codex's own sandbox, a nested bubblewrap, cannot start
 * there (mainloop's allows no namespaces inside). Without mainloop's sandbox, `plan` runs with
 * Codex's `--sandbox read-only` and `implement` with `--sandbox workspace-write` and network access
 * on, the closest equivalents.
 *
 * Credentials: only what the options name is added to the task's environment (OPENAI_API_KEY) and
 * CODEX_HOME (by default `$HOME/.codex` of the task's own HOME, created on first use, where the
 * sessions live between runs); nothing of the server's environment.
 */
export class CodexRuntime implements AgentRuntime {
  readonly name = 'codex';

  constructor(private readonly options: CodexRuntimeOptions = {}) {}

  private get executable(): string {
    return this.options.executable ?? 'codex';
  }

  async availability(): Promise<RuntimeAvailability> {
    const found = findExecutable(this.executable, this.options.searchPath ?? process.env.PATH ?? '');
    if (!found) {
      return { available: false, reason: `the Codex CLI (\`${this.executable}\`) is not installed: ${INSTALL_HINT}` };
    }
    const version = await readVersion(found, this.options.searchPath ?? process.env.PATH ?? '');
    if (!version.ok) {
      return {
        available: false,
        reason: `the Codex CLI at ${found} does not run (${version.error}): reinstall it with \`npm i -g @openai/codex\``,
      };
    }
    const { openai, codexHome } = this.options;
    if (openai?.apiKey) {
      const where = openai.baseUrl ? ` at ${openai.baseUrl}` : '';
      return { available: true, reason: `runs ${version.text} with the OpenAI API key${where}` };
    }
    if (openai?.baseUrl) return { available: true, reason: `runs ${version.text} against ${openai.baseUrl}` };
    if (codexHome && existsSync(path.join(codexHome, 'auth.json'))) {
      return { available: true, reason: `runs ${version.text}, signed in under ${codexHome}` };
    }
    return {
      available: false,
      reason:
        `${version.text} is installed but has no credentials: set OPENAI_API_KEY (or OPENAI_BASE_URL for a ` +
        'compatible server), or sign in with `codex login` and point CODEX_HOME at its home',
    };
  }

  /** The Responses API it was given; with a ChatGPT sign-in, also where Codex signs in and talks. */
  egress(): EgressRoute[] {
    const { openai } = this.options;
    const api = routeOf(openai?.baseUrl ?? OPENAI_API_URL);
    if (openai?.apiKey) return [api];
    return [api, ...CHATGPT_HOSTS.map((host) => ({ host, port: 443 }))];
  }

  async run(request: AgentRequest): Promise<AgentOutcome> {
    const codexHome = this.options.codexHome ?? (request.env.HOME ? path.join(request.env.HOME, '.codex') : undefined);
    if (!codexHome) return { kind: 'failed', error: 'the codex runtime needs a HOME in the task’s environment' };
    try {
      await ownDirectory(codexHome, request);
    } catch (error) {
      return { kind: 'failed', error: `could not create the Codex home ${codexHome}: ${messageOf(error)}` };
    }
    const env: Record<string, string> = { ...request.env, CODEX_HOME: codexHome };
    if (this.options.openai?.apiKey) env.OPENAI_API_KEY = this.options.openai.apiKey;

    const args = this.arguments(request);
    request.log({
      kind: 'system',
      text: request.sessionId ? `codex: resuming session ${request.sessionId}` : 'codex: starting a session',
    });
    const child = spawnInSandbox(request.sandbox, this.executable, args, {
      cwd: request.cwd,
      env,
      signal: request.signal,
      stdin: true,
    });
    child.stdin?.on('error', () => {
      // the CLI ended before reading its prompt: its exit says why
    });
    child.stdin?.end(withPreamble(request));

    const stream = new EventStream(request);
    const stderrTail: string[] = [];
    /** set when the CLI wrote a line too long to be one of its events: the run ends with it */
    let overlong: string | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const [result] = await Promise.all([
      exited,
      readLines(
        protocolStream(child.stdout, (what) => {
          overlong = `the Codex CLI wrote ${what}, which is none of its events: stopped`;
          killTree(child);
        }),
        { maxLineBytes: MAX_PROTOCOL_LINE_BYTES, onLine: (line) => stream.line(line.text) },
      ),
      logOutput(child.stderr, {
        kind: 'stderr',
        log: request.log,
        tail: stderrTail,
        tailLines: ERROR_TAIL_LINES,
        skipBlank: true,
      }),
    ]);

    if (result.error) {
      const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
      return {
        kind: 'failed',
        error: missing
          ? `the Codex CLI (\`${this.executable}\`) is not installed: ${INSTALL_HINT}`
          : `could not start the Codex CLI: ${result.error.message}`,
      };
    }
    const sessionId = stream.sessionId ?? request.sessionId;
    const usage = stream.totals ? await this.runUsage(request.stateDir, sessionId, stream.totals) : undefined;
    const base = { ...(sessionId ? { sessionId } : {}), ...(usage ? { usage } : {}) };
    if (request.signal.aborted) return { ...base, kind: 'failed', error: 'stopped' };
    if (overlong) return { ...base, kind: 'failed', error: overlong };
    if (stream.turnError) return { ...base, kind: 'failed', error: `Codex failed: ${stream.turnError}` };
    if (result.code !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      const why = stream.lastError ?? stderrTail.join('\n');
      return { ...base, kind: 'failed', error: `the Codex CLI ${how}${why ? `: ${why}` : ''}` };
    }
    if (!stream.completed) {
      return {
        ...base,
        kind: 'failed',
        error: stream.malformed
          ? `the Codex CLI wrote output that is not its JSON event stream: ${stream.malformed}`
          : 'the Codex CLI ended without finishing its turn',
      };
    }
    const message = stream.lastMessage ?? '';
    const asked = parseQuestions(message);
    if (asked) return { ...base, kind: 'question', questions: asked };
    if (request.mode === 'plan') {
      if (!message.trim()) return { ...base, kind: 'failed', error: 'Codex ended the planning run without a plan' };
      return { ...base, kind: 'plan', plan: message.trim() };
    }
    return { ...base, kind: 'done', ...(message.trim() ? { summary: message.trim() } : {}) };
  }

  /** `exec [options] [resume <id>] -`: options before `resume`, which takes only a few itself. */
  private arguments(request: AgentRequest): string[] {
    const args = ['exec', '--json', '--skip-git-repo-check', '-C', request.cwd, '-c', 'approval_policy="never"'];
    if (request.sandbox.kind === 'bubblewrap') args.push('--dangerously-bypass-approvals-and-sandbox');
    else if (request.mode === 'plan') args.push('--sandbox', 'read-only');
    else args.push('--sandbox', 'workspace-write', '-c', 'sandbox_workspace_write.network_access=true');
    const model = request.model ?? this.options.defaultModel;
    if (model) args.push('-m', model);
    const { openai } = this.options;
    if (openai?.apiKey || openai?.baseUrl) {
      const provider = [
        `name = ${tomlString('mainloop')}`,
        `base_url = ${tomlString(openai.baseUrl ?? OPENAI_API_URL)}`,
        ...(openai.apiKey ? [`env_key = ${tomlString('OPENAI_API_KEY')}`] : []),
        `wire_api = ${tomlString('responses')}`,
      ];
      args.push('-c', `model_provider=${tomlString(PROVIDER_ID)}`);
      args.push('-c', `model_providers.${PROVIDER_ID}={ ${provider.join(', ')} }`);
    }
    if (request.sessionId) args.push('resume', request.sessionId);
    args.push('-');
    return args;
  }

  /** This run's share of the thread's total, remembering the total for the next run. */
  private async runUsage(stateDir: string, sessionId: string | undefined, total: Usage): Promise<Usage> {
    if (!sessionId) return total;
    // In the task's state directory, mainloop's own (the Codex home is the task's to write).
    const file = path.join(stateDir, 'codex-usage.json');
    let totals: Record<string, Usage> = {};
    try {
      totals = JSON.parse(await readFile(file, 'utf8')) as Record<string, Usage>;
    } catch {
      // first run in this home
    }
    const before = totals[sessionId];
    totals[sessionId] = total;
    try {
      await mkdir(stateDir, { recursive: true });
      await writeFile(file, JSON.stringify(totals));
    } catch {
      // the next run then counts this one's tokens again: a wrong number, not a failed run
    }
    if (!before) return total;
    return {
      inputTokens: Math.max(0, total.inputTokens - before.inputTokens),
      outputTokens: Math.max(0, total.outputTokens - before.outputTokens),
    };
  }
}

/**
 * The Codex home in the task's HOME, a real directory (not a link the task left there), given to
 * the user the task runs as. A shared home (`codexHome`) is the person's: made if missing, no more.
 */
async function ownDirectory(dir: string, request: AgentRequest): Promise<void> {
  const home = request.env.HOME;
  if (!home || !isWithin(dir, home)) {
    await mkdir(dir, { recursive: true });
    return;
  }
  const info = await lstat(dir).catch(() => undefined);
  if (info?.isDirectory()) return;
  if (info) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await request.sandbox.adopt(dir);
}

/** What `codex exec --json` writes, line by line, turned into log entries and a result. */
class EventStream {
  sessionId?: string;
  lastMessage?: string;
  totals?: Usage;
  completed = false;
  turnError?: string;
  lastError?: string;
  malformed?: string;

  constructor(private readonly request: AgentRequest) {}

  private log(kind: AgentLogEntry['kind'], text: string): void {
    this.request.log({ kind, text });
  }

  line(line: string): void {
    if (!line.trim()) return;
    let event: CodexEvent;
    try {
      event = JSON.parse(line) as CodexEvent;
    } catch {
      this.log('stdout', line);
      this.malformed ??= line.slice(0, 200);
      return;
    }
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
      this.log('stdout', line);
      this.malformed ??= line.slice(0, 200);
      return;
    }
    switch (event.type) {
      case 'thread.started':
        if (typeof event.thread_id === 'string') this.sessionId = event.thread_id;
        return;
      case 'turn.started':
        return;
      case 'turn.completed':
        this.completed = true;
        if (event.usage) {
          this.totals = { inputTokens: event.usage.input_tokens ?? 0, outputTokens: event.usage.output_tokens ?? 0 };
        }
        return;
      case 'turn.failed':
        this.turnError = event.error?.message ?? 'the turn failed';
        this.log('system', `Codex failed: ${this.turnError}`);
        return;
      case 'error':
        this.lastError = event.message;
        if (event.message) this.log('stderr', event.message);
        return;
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        if (event.item) this.item(event.type, event.item);
        return;
      default:
        // a newer CLI's event: nothing mainloop acts on
        return;
    }
  }

  private item(phase: 'item.started' | 'item.updated' | 'item.completed', item: CodexItem): void {
    const done = phase === 'item.completed';
    switch (item.type) {
      case 'agent_message':
        if (done && typeof item.text === 'string') {
          this.lastMessage = item.text;
          this.log('agent', item.text);
        }
        return;
      case 'command_execution':
        if (phase === 'item.started') this.log('tool', `$ ${item.command ?? ''}`);
        if (done) {
          const output = truncate(item.aggregated_output ?? '');
          const status =
            item.exit_code === null || item.exit_code === undefined ? item.status : `exit ${item.exit_code}`;
          this.log('tool_result', output ? `${output}\n(${status})` : `(${status})`);
        }
        return;
      case 'file_change':
        if (done) {
          const changes = (item.changes ?? [])
            .map((change) => `${change.kind} ${this.relative(change.path)}`)
            .sort((a, b) => a.localeCompare(b));
          const failed = item.status === 'failed' ? ' (failed)' : '';
          this.log('tool', `edit${failed}: ${changes.join(', ')}`);
        }
        return;
      case 'mcp_tool_call':
        if (phase === 'item.started') {
          const args = item.arguments === undefined ? '' : JSON.stringify(item.arguments);
          this.log('tool', `${item.server}.${item.tool}(${truncate(args)})`);
        }
        if (done) {
          const result = item.error?.message ?? (item.result === undefined ? '' : JSON.stringify(item.result));
          this.log('tool_result', truncate(result || `(${item.status})`));
        }
        return;
      case 'web_search':
        if (done) this.log('tool', `web search: ${item.query ?? ''}`);
        return;
      case 'todo_list':
        if (item.items) {
          this.log('status', item.items.map((entry) => `${entry.completed ? '[x]' : '[ ]'} ${entry.text}`).join('\n'));
        }
        return;
      case 'error':
        if (item.message) this.log('system', item.message);
        return;
      default:
        // reasoning and item types mainloop does not show
        return;
    }
  }

  private relative(file: string | undefined): string {
    if (!file) return '';
    const relative = path.relative(this.request.cwd, file);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  }
}

interface CodexEvent {
  type: string;
  thread_id?: string;
  usage?: { input_tokens?: number; cached_input_tokens?: number; output_tokens?: number };
  error?: { message?: string };
  message?: string;
  item?: CodexItem;
}

interface CodexItem {
  id?: string;
  type: string;
  text?: string;
  command?: string;
  aggregated_output?: string;
  exit_code?: number | null;
  status?: string;
  changes?: Array<{ path?: string; kind?: string }>;
  server?: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  error?: { message?: string };
  query?: string;
  items?: Array<{ text: string; completed: boolean }>;
  message?: string;
}

/** The instructions a run's prompt starts with: the phase, and how to ask the person. */
function withPreamble(request: AgentRequest): string {
  const phase =
    request.mode === 'plan'
      ? 'This is the planning phase. Do not change any file (the workspace is read-only now). Read what you need, ' +
        'then make your final message the plan: what you will change and how you will check it, in Markdown. ' +
        'The person approves it before you implement it.'
      : 'This is the implementation phase. Make the changes in the workspace (your working directory), run the ' +
        'project’s checks, and end with a short summary of what you changed and how you checked it.';
  const asking =
    'Nobody watches you while you work and nobody can answer in the middle of a turn. When you cannot go on ' +
    'without the person’s decision, stop and end your final message with exactly one fenced block like this ' +
    '(at most three questions; options only when there are clear choices):\n\n' +
    '```' +
    QUESTION_FENCE +
    '\n{"questions":[{"header":"Short label","question":"The whole question?","options":[{"label":"A choice",' +
    '"description":"what it means"}],"multiSelect":false}]}\n```\n\n' +
    'Their answers arrive as your next instructions.';
  const intro = request.sessionId
    ? 'You are continuing a task for mainloop.'
    : 'You are a background worker of mainloop, doing a task a person gave you.';
  return `${intro} ${phase}\n\n${asking}\n\n---\n\n${request.prompt}`;
}

/** The questions of a ```mainloop-question block at the end of `message`, or undefined. */
export function parseQuestions(message: string): AskedQuestion[] | undefined {
  const pattern = new RegExp('```' + QUESTION_FENCE + '[^\\n]*\\n([\\s\\S]*?)\\n?```', 'g');
  const blocks = [...message.matchAll(pattern)];
  const block = blocks.at(-1)?.[1]?.trim();
  if (block === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(block);
  } catch {
    parsed = undefined;
  }
  const list = Array.isArray(parsed)
    ? parsed
    : isRecord(parsed) && Array.isArray(parsed.questions)
      ? parsed.questions
      : isRecord(parsed)
        ? [parsed]
        : [];
  const questions = list.map(toQuestion).filter((question): question is AskedQuestion => question !== undefined);
  if (questions.length > 0) return questions;
  // Not what was asked for, but still a question: the person reads it as the agent wrote it.
  const text = block || message.replace(pattern, '').trim();
  return [{ text: text || 'Codex asked a question without text.', options: [], multiSelect: false }];
}

function toQuestion(value: unknown): AskedQuestion | undefined {
  if (typeof value === 'string')
    return value.trim() ? { text: value.trim(), options: [], multiSelect: false } : undefined;
  if (!isRecord(value)) return undefined;
  const text = [value.question, value.text].find((candidate) => typeof candidate === 'string' && candidate.trim());
  if (typeof text !== 'string') return undefined;
  const options = (Array.isArray(value.options) ? value.options : []).flatMap((option) => {
    if (typeof option === 'string') return option.trim() ? [{ label: option.trim() }] : [];
    if (!isRecord(option) || typeof option.label !== 'string' || !option.label.trim()) return [];
    return [
      {
        label: option.label.trim(),
        ...(typeof option.description === 'string' && option.description ? { description: option.description } : {}),
      },
    ];
  });
  return {
    ...(typeof value.header === 'string' && value.header.trim() ? { header: value.header.trim() } : {}),
    text: text.trim(),
    options,
    multiSelect: value.multiSelect === true,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Head and tail of `text` when it is longer than TOOL_RESULT_LIMIT. */
export function truncate(text: string, limit = TOOL_RESULT_LIMIT): string {
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed.length <= limit) return trimmed;
  const half = Math.floor(limit / 2);
  return `${trimmed.slice(0, half)}\n… (${trimmed.length - 2 * half} characters left out) …\n${trimmed.slice(-half)}`;
}

/** A TOML basic string (JSON's escapes are valid TOML). */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function findExecutable(executable: string, searchPath: string): string | undefined {
  if (executable.includes('/')) return existsSync(executable) ? executable : undefined;
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, executable);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function readVersion(
  executable: string,
  searchPath: string,
): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    // Only PATH: the npm launcher needs `node`; nothing else of the server's environment.
    execFile(executable, ['--version'], { env: { PATH: searchPath }, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) {
        const detail = (stderr || error.message).trim().split('\n').at(-1) ?? error.message;
        resolve({ ok: false, error: detail });
      } else resolve({ ok: true, text: stdout.trim() || 'the Codex CLI' });
    });
  });
}
