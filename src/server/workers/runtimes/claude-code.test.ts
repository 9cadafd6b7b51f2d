import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  anthropicScenario,
  FakeAnthropicApi,
  type AnthropicMessagesRequest,
} from '../../../../test/fakes/anthropic-api.js';
import type { AgentLogEntry, AgentOutcome, AgentRequest } from '../runtime.js';
import { BWRAP as bwrap, openTestSandbox } from '../../../../test/support/sandbox.js';
import { NoSandbox } from '../sandbox.js';
import { ClaudeCodeRuntime, describeToolUse, type ClaudeCodeRuntimeOptions } from './claude-code.js';

/**
 * The real Claude Code CLI bundled with the Agent SDK, driven by ClaudeCodeRuntime, against the
 * fake Anthropic API: the tools run for real in a temporary git repository.
 */

// Generous: one CLI run takes 1–2 s, but the machine may be shared and loaded.
const TIMEOUT = 60_000;

let fake: FakeAnthropicApi;
let root: string;
let workspace: string;
let home: string;

beforeEach(async () => {
  fake = await FakeAnthropicApi.start();
  root = await mkdtemp(path.join(os.tmpdir(), 'mainloop-claude-code-'));
  workspace = path.join(root, 'data', 'workspaces', 'task-1');
  home = path.join(root, 'data', 'homes', 'task-1');
  await mkdir(home, { recursive: true });
  await initRepository(workspace);
});

afterEach(async () => {
  try {
    await fake.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

async function initRepository(dir: string) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'README.md'), '# Demo\n\nA small project.\n');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: dir });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'Initial commit');
}

/** The person's Claude Code sign-in, as `claude` /login leaves it: `<config dir>/.credentials.json`. */
async function personSignedIn(): Promise<{ configDir: string; credentials: string }> {
  const configDir = path.join(root, 'person', '.claude');
  await mkdir(configDir, { recursive: true });
  const credentials = JSON.stringify({
    claudeAiOauth: {
      accessToken: fake.apiKey,
      refreshToken: 'refresh',
      expiresAt: Date.now() + 3_600_000,
      scopes: ['user:inference', 'user:profile'],
      subscriptionType: 'max',
    },
  });
  await writeFile(path.join(configDir, '.credentials.json'), credentials);
  return { configDir, credentials };
}

function runtime(options: ClaudeCodeRuntimeOptions = {}) {
  return new ClaudeCodeRuntime({ anthropic: { apiKey: fake.apiKey, baseUrl: fake.url }, ...options });
}

function request(overrides: Partial<AgentRequest> & { env?: Record<string, string> } = {}) {
  const log: AgentLogEntry[] = [];
  const controller = new AbortController();
  const value: AgentRequest = {
    taskId: 'task-1',
    mode: 'implement',
    prompt: 'Do the task.',
    cwd: workspace,
    stateDir: path.join(root, 'data', 'task-state', 'task-1'),
    sandbox: new NoSandbox(),
    signal: controller.signal,
    log: (entry) => void log.push(entry),
    ...overrides,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: home, ...overrides.env },
  };
  return { request: value, log, controller };
}

const linesOf = (log: AgentLogEntry[], kind: AgentLogEntry['kind']) =>
  log.filter((entry) => entry.kind === kind).map((entry) => entry.text);

/** Everything the model was sent in one request, as text: to find what Claude Code told it. */
const textOfRequest = (body: AnthropicMessagesRequest) => JSON.stringify(body.messages);

/** The plan file Claude Code's plan mode tells the model to write. */
function planFileOf(body: AnthropicMessagesRequest): string {
  const file = /create your plan at (\S+?\.md)/.exec(textOfRequest(body))?.[1];
  if (!file) throw new Error('the plan-mode instructions name no plan file');
  return file;
}

/** Processes whose environment has this task's HOME: the CLI, bubblewrap, and whatever the agent started. */
async function processesOfTask(taskHome = home): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`HOME=${taskHome}`)) pids.push(Number(entry));
  }
  return pids;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 40_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

const gitStatus = () => execFileSync('git', ['status', '--porcelain'], { cwd: workspace, encoding: 'utf8' });

describe('ClaudeCodeRuntime with the real Claude Code CLI', () => {
  it(
    'plans read-only and ends with the plan from ExitPlanMode, nothing changed and no process left',
    async () => {
      const plan = [
        '# Add a greeting',
        '',
        'Option A: a `greet.sh` script. Option B: a section in README.md.',
        '',
        '1. Write greet.sh',
        '2. Document it',
      ].join('\n');
      fake.enqueue(
        anthropicScenario.toolCall({ name: 'Glob', input: { pattern: '**/*.md' } }),
        anthropicScenario.toolCall({ name: 'Read', input: { file_path: path.join(workspace, 'README.md') } }),
        // a write to the project in plan mode is refused, and the agent goes on planning
        anthropicScenario.toolCall({
          name: 'Write',
          input: { file_path: path.join(workspace, 'x.txt'), content: 'x' },
        }),
        (body) => anthropicScenario.toolCall({ name: 'Write', input: { file_path: planFileOf(body), content: plan } }),
        anthropicScenario.toolCall({ name: 'ExitPlanMode', input: {}, text: ['Here is my plan.'] }),
      );
      const { request: planRequest, log } = request({ mode: 'plan', prompt: 'Add a greeting.' });

      const outcome = await runtime().run(planRequest);

      expect(outcome).toMatchObject({ kind: 'plan', plan, sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(outcome.usage).toMatchObject({ inputTokens: expect.any(Number), costUsd: expect.any(Number) });
      expect(outcome.usage!.inputTokens).toBeGreaterThan(0);
      expect(gitStatus()).toBe('');
      // the CLI stopped at ExitPlanMode: no request after it
      expect(fake.messageRequests).toHaveLength(5);
      expect(await processesOfTask()).toEqual([]);
      expect(linesOf(log, 'tool')).toEqual([
        'Glob: **/*.md',
        'Read README.md',
        'Write x.txt',
        expect.stringMatching(/^Write .*\.claude\/plans\/.*\.md$/),
        'ExitPlanMode',
      ]);
      const results = linesOf(log, 'tool_result');
      expect(results).toHaveLength(4); // none for ExitPlanMode: the run ended there
      expect(results[2]).toMatch(/^Write \(error\): /);
      expect(linesOf(log, 'system')[0]).toMatch(/^Claude Code [\d.]+, model claude-opus-\S+, plan mode, session /);
      // the default model is the newest Opus
      const body = fake.messageRequests[0]!.body as AnthropicMessagesRequest;
      expect(body.model).toMatch(/^claude-opus-/);
    },
    TIMEOUT,
  );

  it(
    'ends with the agent’s questions, and the next run resumes the session with the answers',
    async () => {
      const ask = {
        questions: [
          {
            question: 'Which database should the cache use?',
            header: 'Database',
            options: [
              { label: 'Postgres', description: 'the one mainloop already runs' },
              { label: 'SQLite', description: 'a file next to the app' },
            ],
            multiSelect: false,
          },
          {
            question: 'Which endpoints should be cached?',
            header: 'Endpoints',
            options: [
              { label: '/users', description: 'the user list' },
              { label: '/tasks', description: 'the task list' },
            ],
            multiSelect: true,
          },
        ],
      };
      fake.enqueue(anthropicScenario.toolCall({ id: 'toolu_01AskAsk', name: 'AskUserQuestion', input: ask }));
      const first = request({ prompt: 'Add a cache.', model: 'claude-opus-4-5' });

      const asked = await runtime().run(first.request);

      expect(asked).toEqual({
        kind: 'question',
        questions: [
          {
            header: 'Database',
            text: 'Which database should the cache use?',
            options: [
              { label: 'Postgres', description: 'the one mainloop already runs' },
              { label: 'SQLite', description: 'a file next to the app' },
            ],
            multiSelect: false,
          },
          {
            header: 'Endpoints',
            text: 'Which endpoints should be cached?',
            options: [
              { label: '/users', description: 'the user list' },
              { label: '/tasks', description: 'the task list' },
            ],
            multiSelect: true,
          },
        ],
        sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        usage: expect.objectContaining({ inputTokens: expect.any(Number) }),
      });
      expect(fake.messageRequests).toHaveLength(1); // the tool did not run and the CLI stopped
      expect(linesOf(first.log, 'tool')).toEqual([
        'AskUserQuestion: Which database should the cache use? / Which endpoints should be cached?',
      ]);
      expect(linesOf(first.log, 'tool_result')).toEqual([]);
      expect(await processesOfTask()).toEqual([]);

      // days later: the answers
      fake.enqueue((body) => {
        // the resumed conversation: the question asked before, then the answers
        const text = textOfRequest(body);
        expect(text).toContain('toolu_01AskAsk');
        expect(text).toContain('Which database should the cache use?');
        expect(text).toContain('Database: Postgres');
        return anthropicScenario.toolCall({
          name: 'Write',
          input: { file_path: path.join(workspace, 'cache.txt'), content: 'postgres\n' },
        });
      }, anthropicScenario.text('The cache uses Postgres.'));
      const second = request({
        prompt: 'Database: Postgres\nEndpoints: /users, /tasks',
        sessionId: asked.sessionId,
        model: 'claude-opus-4-5',
      });

      const done = await runtime().run(second.request);

      expect(done).toMatchObject({ kind: 'done', summary: 'The cache uses Postgres.', sessionId: asked.sessionId });
      expect(await readFile(path.join(workspace, 'cache.txt'), 'utf8')).toBe('postgres\n');
      expect(fake.messageRequests).toHaveLength(3);
      // this run's cost, not the session's: the list price of this run's tokens (claude-opus-4-5: $5 / $25 per MTok)
      const usage = done.usage!;
      expect(usage.costUsd).toBeCloseTo((usage.inputTokens * 5 + usage.outputTokens * 25) / 1e6, 6);
      expect(await processesOfTask()).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'implements: Write, Edit and Bash change the workspace; logs, usage and a scrubbed environment',
    async () => {
      process.env.MAINLOOP_TEST_SERVER_SECRET = 'must-not-leak';
      fake.enqueue(
        anthropicScenario.toolCall({
          name: 'Write',
          input: { file_path: path.join(workspace, 'greet.sh'), content: 'echo hello\n' },
          text: ['I will add the script.'],
        }),
        anthropicScenario.toolCall({
          name: 'Edit',
          input: { file_path: path.join(workspace, 'greet.sh'), old_string: 'hello', new_string: 'hello, world' },
        }),
        anthropicScenario.toolCall({
          name: 'Bash',
          input: { command: 'echo hi > out.txt && env | cut -d= -f1 | sort > env-names.txt', description: 'Write' },
        }),
        // file tools stay inside the workspace
        anthropicScenario.toolCall({
          name: 'Write',
          input: { file_path: path.join(root, 'outside.txt'), content: 'no' },
        }),
        anthropicScenario.text('Added greet.sh.'),
      );
      const { request: implement, log } = request({ model: 'claude-sonnet-4-5' });

      const outcome = await runtime().run(implement);
      delete process.env.MAINLOOP_TEST_SERVER_SECRET;

      expect(outcome).toMatchObject({ kind: 'done', summary: 'Added greet.sh.', sessionId: expect.any(String) });
      expect(await readFile(path.join(workspace, 'greet.sh'), 'utf8')).toBe('echo hello, world\n');
      expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
      const envNames = (await readFile(path.join(workspace, 'env-names.txt'), 'utf8')).split('\n');
      expect(envNames).toEqual(expect.arrayContaining(['ANTHROPIC_API_KEY', 'HOME', 'DISABLE_TELEMETRY']));
      expect(envNames).not.toContain('MAINLOOP_TEST_SERVER_SECRET');
      expect(outcome.usage!.inputTokens).toBeGreaterThan(0);
      expect(outcome.usage!.outputTokens).toBeGreaterThan(0);
      expect(outcome.usage!.costUsd).toBeGreaterThan(0);

      expect(fake.messageRequests.map((entry) => (entry.body as AnthropicMessagesRequest).model)).toEqual(
        Array(5).fill('claude-sonnet-4-5'),
      );
      expect(linesOf(log, 'agent')).toEqual(['I will add the script.', 'Added greet.sh.']);
      expect(linesOf(log, 'tool')).toEqual([
        'Write greet.sh',
        'Edit greet.sh',
        'Bash: echo hi > out.txt && env | cut -d= -f1 | sort > env-names.txt',
        `Write ${path.join(root, 'outside.txt')}`,
      ]);
      const results = linesOf(log, 'tool_result');
      expect(results).toHaveLength(4);
      expect(results[0]).toMatch(/^Write: File created successfully/);
      expect(results[3]).toMatch(/^Write \(error\): .*Only files inside the workspace/);
      expect(await exists(path.join(root, 'outside.txt'))).toBe(false);
      expect(linesOf(log, 'system').at(-1)).toMatch(/^Claude Code finished \(success\) after \d+ turns, \$/);
      expect(await processesOfTask()).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'stops at once when aborted mid-run, with the whole process tree',
    async () => {
      fake.enqueue(
        anthropicScenario.toolCall({ name: 'Bash', input: { command: 'tail -f /dev/null', description: 'Wait' } }),
      );
      const { request: slow, log, controller } = request();

      const running = runtime().run(slow);
      await until(() => linesOf(log, 'tool').includes('Bash: tail -f /dev/null'), 'the Bash tool call');
      await until(async () => {
        for (const pid of await processesOfTask()) {
          const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
          if (command.startsWith('tail\0')) return true;
        }
        return false;
      }, 'the agent’s `tail -f /dev/null`');
      const before = await processesOfTask();
      expect(before.length).toBeGreaterThanOrEqual(2); // the CLI, its shell and the command
      const abortedAt = Date.now();
      controller.abort();

      const outcome: AgentOutcome = await running;

      expect(outcome).toMatchObject({ kind: 'failed', error: 'stopped' });
      expect(Date.now() - abortedAt).toBeLessThan(10_000);
      expect(await processesOfTask()).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'fails with a readable sentence when the Claude Code CLI dies in the middle of a run (SIGKILL)',
    async () => {
      fake.enqueue(
        anthropicScenario.toolCall({ name: 'Bash', input: { command: 'tail -f /dev/null', description: 'Wait' } }),
      );
      const { request: doomed, log } = request();

      const running = runtime().run(doomed);
      await until(() => linesOf(log, 'tool').includes('Bash: tail -f /dev/null'), 'the Bash tool call');
      // The CLI itself: the process of the task whose command line is not the agent's shell or `tail`.
      const cli = await (async () => {
        for (const pid of await processesOfTask()) {
          const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
          if (command.includes('cli.js') || command.includes('claude')) return pid;
        }
        return undefined;
      })();
      expect(cli).toBeDefined();
      process.kill(cli!, 'SIGKILL');

      const outcome: AgentOutcome = await running;

      expect(outcome.kind).toBe('failed');
      expect(outcome.kind === 'failed' && outcome.error).toMatch(/^Claude Code could not run/);
      await until(async () => (await processesOfTask()).length === 0, 'the agent’s processes to end');
    },
    TIMEOUT,
  );

  it(
    'fails with a readable sentence when the API refuses the credentials',
    async () => {
      const { request: refused } = request({ env: { CLAUDE_CODE_MAX_RETRIES: '0' } });

      const outcome = await runtime({ anthropic: { apiKey: 'sk-ant-wrong', baseUrl: fake.url } }).run(refused);

      expect(outcome.kind).toBe('failed');
      expect(outcome.kind === 'failed' && outcome.error).toMatch(/^Claude Code could not sign in: .*Invalid API key/);
      expect(fake.messageRequests.map((entry) => entry.status)).toEqual([401]);
      expect(await processesOfTask()).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'fails with a readable sentence when the API keeps failing after Claude Code’s retries',
    async () => {
      fake.enqueue(anthropicScenario.serverError(), anthropicScenario.serverError());
      const { request: failing, log } = request({ env: { CLAUDE_CODE_MAX_RETRIES: '1' } });

      const outcome = await runtime().run(failing);

      expect(outcome.kind).toBe('failed');
      expect(outcome.kind === 'failed' && outcome.error).toMatch(/^The model API kept failing.*500/);
      expect(linesOf(log, 'system')).toContainEqual(
        expect.stringMatching(/^API error 500 \(server_error\); retry 1 of 1/),
      );
      expect(fake.messageRequests.map((entry) => entry.status)).toEqual([500, 500]);
    },
    TIMEOUT,
  );

  it.skipIf(!bwrap)(
    'runs inside bubblewrap, reaching its model API through the egress proxy: the workspace is writable and the data directory is hidden',
    async () => {
      const data = path.join(root, 'data');
      await writeFile(path.join(data, 'secret.txt'), 'the database password');
      const { sandbox, close } = await openTestSandbox({
        dataDir: data,
        workspace,
        home,
        allowed: runtime().egress(),
      });
      onTestFinished(close);
      fake.enqueue(
        anthropicScenario.toolCall({
          name: 'Write',
          input: { file_path: path.join(workspace, 'a.txt'), content: 'one\n' },
        }),
        anthropicScenario.toolCall({
          name: 'Edit',
          input: { file_path: path.join(workspace, 'a.txt'), old_string: 'one', new_string: 'two' },
        }),
        anthropicScenario.toolCall({
          name: 'Bash',
          input: {
            command: `ls -a ${data} > listing.txt; cat ${data}/secret.txt > leaked.txt 2>&1; echo hi > out.txt`,
          },
        }),
        anthropicScenario.text('Done.'),
      );
      const { request: sandboxed } = request({ sandbox });

      const outcome = await runtime().run(sandboxed);

      expect(outcome).toMatchObject({ kind: 'done', summary: 'Done.' });
      expect(await readFile(path.join(workspace, 'a.txt'), 'utf8')).toBe('two\n');
      expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
      const listing = await readFile(path.join(workspace, 'listing.txt'), 'utf8');
      expect(listing).not.toContain('secret.txt');
      expect(await readFile(path.join(workspace, 'leaked.txt'), 'utf8')).toMatch(/No such file/);
      expect(await processesOfTask()).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'fails with a clear reason when the CLI writes a line longer than any message, holding none of it; its stderr lines are cut',
    async () => {
      // A CLI gone wrong: a megabyte on one line of stderr, then 40 MB on one line of its JSON stream.
      const cli = path.join(root, 'flooding-claude');
      await writeFile(
        cli,
        "#!/bin/sh\nhead -c 1000000 /dev/zero | tr '\\0' e >&2; echo >&2\nhead -c 40000000 /dev/zero | tr '\\0' a\nsleep 60\n",
        { mode: 0o755 },
      );
      const { request: flooded, log } = request();

      const outcome = await runtime({ pathToClaudeCodeExecutable: cli }).run(flooded);

      expect(outcome.kind === 'failed' && outcome.error).toMatch(/^Claude Code wrote a line longer than 32 MB/);
      const [stderr] = linesOf(log, 'stderr');
      expect(stderr).toMatch(/^e+ … \[995,904 more bytes cut\]$/);
      expect(await processesOfTask()).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'with a subscription’s credentials file: copies it in for the run and removes it after',
    async () => {
      const { configDir, credentials } = await personSignedIn();
      fake.enqueue(
        anthropicScenario.toolCall({
          name: 'Bash',
          input: { command: 'test -f "$HOME/.claude/.credentials.json" && echo present > seen.txt' },
        }),
        anthropicScenario.text('Checked.'),
      );
      const subscription = new ClaudeCodeRuntime({ claudeCode: { configDir } });
      const { request: signedIn } = request({ env: { ANTHROPIC_BASE_URL: fake.url } });

      expect(await subscription.availability()).toMatchObject({ available: true });
      const outcome = await subscription.run(signedIn);

      expect(outcome, JSON.stringify(outcome)).toMatchObject({ kind: 'done', summary: 'Checked.' });
      expect(await readFile(path.join(workspace, 'seen.txt'), 'utf8')).toBe('present\n');
      expect(await exists(path.join(home, '.claude', '.credentials.json'))).toBe(false);
      expect(await readFile(path.join(configDir, '.credentials.json'), 'utf8')).toBe(credentials);
      expect(fake.messageRequests[0]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    },
    TIMEOUT,
  );
  it(
    'with a subscription’s credentials file: a link left in its place is not written through, and what comes back is taken only if it is a sign-in',
    async () => {
      const { configDir, credentials } = await personSignedIn();
      // Left by an earlier run of the task: its Claude config is a link to somewhere of the server's.
      const elsewhere = path.join(root, 'elsewhere');
      await mkdir(elsewhere);
      await writeFile(path.join(elsewhere, 'keep.txt'), 'the server’s\n');
      await symlink(elsewhere, path.join(home, '.claude'));
      fake.enqueue(
        anthropicScenario.toolCall({
          name: 'Bash',
          // The agent swaps the copy for a link to a file of the server's, to have it "given back".
          input: {
            command: `rm "$HOME/.claude/.credentials.json" && ln -s ${path.join(elsewhere, 'keep.txt')} "$HOME/.claude/.credentials.json"`,
          },
        }),
      );
      const subscription = new ClaudeCodeRuntime({ claudeCode: { configDir } });
      const { request: signedIn } = request({ env: { ANTHROPIC_BASE_URL: fake.url } });

      // (it signed in: its first request went out with the copy, and the agent broke its own sign-in)
      await subscription.run(signedIn);
      expect(fake.messageRequests[0]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
      // Nothing was written where the link pointed, and the person's sign-in is as it was.
      expect(await readdir(elsewhere)).toEqual(['keep.txt']);
      expect(await readFile(path.join(configDir, '.credentials.json'), 'utf8')).toBe(credentials);
    },
    TIMEOUT,
  );
});

describe('ClaudeCodeRuntime.availability', () => {
  it('names the credentials it would use, or what to set', async () => {
    const nowhere = path.join(os.tmpdir(), 'mainloop-no-such-dir');
    expect(await new ClaudeCodeRuntime({ anthropic: { apiKey: 'sk-ant-x' } }).availability()).toEqual({
      available: true,
      reason: 'runs Claude Code with the Anthropic API key (ANTHROPIC_API_KEY)',
    });
    expect(
      await new ClaudeCodeRuntime({ claudeCode: { oauthToken: 'sk-ant-oat-x', configDir: nowhere } }).availability(),
    ).toEqual({ available: true, reason: 'runs Claude Code with your Claude subscription (CLAUDE_CODE_OAUTH_TOKEN)' });
    const missing = await new ClaudeCodeRuntime({ claudeCode: { configDir: nowhere } }).availability();
    expect(missing.available).toBe(false);
    expect(missing.reason).toMatch(/ANTHROPIC_API_KEY.*claude setup-token.*CLAUDE_CODE_OAUTH_TOKEN/);
    // and a run without credentials fails with the same sentence, starting nothing
    const { request: unconfigured } = request();
    expect(await new ClaudeCodeRuntime({ claudeCode: { configDir: nowhere } }).run(unconfigured)).toEqual({
      kind: 'failed',
      error: missing.reason,
    });
  });
});

describe('describeToolUse', () => {
  it('writes one short line per tool call', () => {
    expect(describeToolUse('Edit', { file_path: '/w/src/x.ts', old_string: 'a', new_string: 'b' }, '/w')).toBe(
      'Edit src/x.ts',
    );
    expect(describeToolUse('Read', { file_path: '/elsewhere/y.ts' }, '/w')).toBe('Read /elsewhere/y.ts');
    expect(describeToolUse('Bash', { command: 'npm   test\n--run', description: 'Run tests' }, '/w')).toBe(
      'Bash: npm test --run',
    );
    expect(describeToolUse('Grep', { pattern: 'TODO', path: 'src' }, '/w')).toBe('Grep: TODO');
    expect(describeToolUse('ExitPlanMode', {}, '/w')).toBe('ExitPlanMode');
    expect(describeToolUse('Bash', { command: 'x'.repeat(500) }, '/w').length).toBeLessThan(260);
  });
});
