import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { FakeResponsesApi, historyHas, responses, userTexts } from '../../../../test/fakes/codex/responses-api.js';
import type { AgentLogEntry, AgentOutcome, AgentRequest } from '../runtime.js';
import { BWRAP, openTestSandbox } from '../../../../test/support/sandbox.js';
import { NoSandbox, type Sandbox } from '../sandbox.js';
import { CodexRuntime, parseQuestions, truncate, type CodexRuntimeOptions } from './codex.js';

/**
 * These tests drive the real Codex CLI against a local fake of the Responses API, so the adapter
 * parses what the CLI really writes and the CLI really runs commands and edits files. The CLI is
 * ~400 MB and not a dependency: it is found at MAINLOOP_CODEX_PATH, in node_modules/.bin, or on
 * PATH, and without it only the parsing tests run.
 */
const REPO = path.resolve(import.meta.dirname, '../../../..');
const CODEX = [process.env.MAINLOOP_CODEX_PATH, path.join(REPO, 'node_modules/.bin/codex')].find(
  (candidate) => candidate && existsSync(candidate),
);
const API_KEY = 'sk-test-codex-0123456789';
// Codex will not install its sandbox helper under the system temp dir (its read-only sandbox then
// cannot run commands), so the tasks' homes live elsewhere when they can.
const BASE = existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();

describe('parseQuestions', () => {
  it('reads the fenced block at the end of the final message', () => {
    const message = [
      'I need to know one thing first.',
      '```mainloop-question',
      '{"questions":[{"header":"Database","question":"Which database?","options":[{"label":"Postgres","description":"the server"},{"label":"SQLite"}],"multiSelect":false}]}',
      '```',
    ].join('\n');
    expect(parseQuestions(message)).toEqual([
      {
        header: 'Database',
        text: 'Which database?',
        options: [{ label: 'Postgres', description: 'the server' }, { label: 'SQLite' }],
        multiSelect: false,
      },
    ]);
  });

  it('takes a single question, string options and a multi-select', () => {
    const message = '```mainloop-question\n{"question":"Which ones?","options":["a","b"],"multiSelect":true}\n```';
    expect(parseQuestions(message)).toEqual([
      { text: 'Which ones?', options: [{ label: 'a' }, { label: 'b' }], multiSelect: true },
    ]);
  });

  it('still asks the person when the block is not JSON, and finds no question without a block', () => {
    expect(parseQuestions('```mainloop-question\nShould I drop the table?\n```')).toEqual([
      { text: 'Should I drop the table?', options: [], multiSelect: false },
    ]);
    expect(parseQuestions('Here is the plan:\n```ts\nconst a = 1;\n```')).toBeUndefined();
  });

  it('keeps a long output’s head and tail', () => {
    const text = 'a'.repeat(3000) + 'END';
    const cut = truncate(text, 100);
    expect(cut.length).toBeLessThan(200);
    expect(cut.startsWith('a'.repeat(50))).toBe(true);
    expect(cut.endsWith('END')).toBe(true);
  });
});

describe('CodexRuntime.availability without a working CLI', () => {
  it('is not available without the executable, or when it does not run', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-codex-availability-'));
    const missing = await new CodexRuntime({ openai: { apiKey: API_KEY }, searchPath: dir }).availability();
    expect(missing).toEqual({ available: false, reason: expect.stringContaining('npm i -g @openai/codex') });
    const broken = path.join(dir, 'broken-codex');
    await writeFile(broken, '#!/bin/sh\necho "missing libc" >&2\nexit 1\n');
    await chmod(broken, 0o755);
    const fails = await new CodexRuntime({ executable: broken, openai: { apiKey: API_KEY } }).availability();
    expect(fails).toEqual({ available: false, reason: expect.stringContaining('does not run (missing libc)') });
    await rm(dir, { recursive: true, force: true });
  });
});

describe('CodexRuntime with a CLI gone wrong', () => {
  it('fails with a clear reason at a line longer than any event, holding none of it; its stderr lines are cut', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-codex-flood-'));
    try {
      const cli = path.join(dir, 'flooding-codex');
      await writeFile(
        cli,
        "#!/bin/sh\nhead -c 1000000 /dev/zero | tr '\\0' e >&2; echo >&2\nhead -c 40000000 /dev/zero | tr '\\0' a\nsleep 60\n",
        { mode: 0o755 },
      );
      const logs: AgentLogEntry[] = [];
      const outcome = await new CodexRuntime({ executable: cli, openai: { apiKey: API_KEY } }).run({
        taskId: 'task-1',
        mode: 'implement',
        prompt: 'Do the task.',
        cwd: dir,
        stateDir: path.join(dir, 'state'),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
        sandbox: new NoSandbox(),
        signal: new AbortController().signal,
        log: (entry) => void logs.push(entry),
      });
      expect(outcome).toMatchObject({ kind: 'failed', error: expect.stringMatching(/line longer than 32 MB/) });
      expect(logs.filter((entry) => entry.kind === 'stderr').map((entry) => entry.text)).toEqual([
        expect.stringMatching(/^e+ … \[995,904 more bytes cut\]$/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!CODEX)('CodexRuntime against the real Codex CLI and a fake Responses API', () => {
  let api: FakeResponsesApi;
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(BASE, 'mainloop-codex-test-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    api = await FakeResponsesApi.start({ apiKey: API_KEY });
  });
  afterEach(async () => {
    expect(api.pending).toBe(0);
    await api.close();
  });

  let taskCount = 0;
  async function task() {
    const dir = path.join(root, `task-${++taskCount}`);
    const cwd = path.join(dir, 'workspace');
    const home = path.join(dir, 'home');
    await mkdir(cwd, { recursive: true });
    await mkdir(home, { recursive: true });
    await writeFile(path.join(cwd, 'README.md'), '# demo\n\nA demo project.\n');
    return { dir, cwd, home, marker: `codex-test-${process.pid}-${taskCount}` };
  }

  function runtime(options: CodexRuntimeOptions = {}) {
    return new CodexRuntime({ executable: CODEX, openai: { apiKey: API_KEY, baseUrl: api.baseUrl }, ...options });
  }

  async function run(
    codex: CodexRuntime,
    paths: { cwd: string; home: string; marker: string },
    request: Partial<AgentRequest> & { sandbox?: Sandbox } = {},
  ): Promise<{ outcome: AgentOutcome; logs: AgentLogEntry[] }> {
    const logs: AgentLogEntry[] = [];
    const outcome = await codex.run({
      taskId: 'task-1',
      mode: 'implement',
      prompt: 'Do the task.',
      cwd: paths.cwd,
      stateDir: path.join(paths.home, '..', 'state'),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: paths.home,
        LANG: 'C.UTF-8',
        TERM: 'dumb',
        MAINLOOP_TASK_MARKER: paths.marker,
      },
      sandbox: new NoSandbox(),
      signal: new AbortController().signal,
      log: (entry) => void logs.push(entry),
      ...request,
    });
    return { outcome, logs };
  }

  it('plans read-only: the final message is the plan, and a write attempt fails', async () => {
    const paths = await task();
    api.enqueue(
      responses.command('cat README.md'),
      responses.command('echo sneaky > edit.txt'),
      responses.message('## Plan\n1. Add a greeting.', { inputTokens: 120, outputTokens: 30 }),
    );
    const { outcome, logs } = await run(runtime({ defaultModel: 'gpt-test' }), paths, {
      mode: 'plan',
      prompt: 'Add a greeting.',
    });
    expect(outcome).toMatchObject({ kind: 'plan', plan: '## Plan\n1. Add a greeting.' });
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.usage).toEqual({ inputTokens: 320, outputTokens: 50 });
    // The write was refused, and the model was told so. (Codex 0.169 reports a command its sandbox
    // refused to the model only, not as an item in its JSON stream: the log cannot show it.)
    expect(existsSync(path.join(paths.cwd, 'edit.txt'))).toBe(false);
    expect(JSON.stringify(api.requests[2]!.body)).toMatch(/Read-only file system|Permission denied|not permitted/);
    expect(logs).toContainEqual({ kind: 'tool', text: expect.stringContaining('cat README.md') });
    expect(logs).toContainEqual({ kind: 'tool_result', text: expect.stringContaining('A demo project.') });
    expect(logs).toContainEqual({ kind: 'agent', text: '## Plan\n1. Add a greeting.' });
    const [first] = api.requests;
    expect((first!.body as { model: string }).model).toBe('gpt-test');
    const prompt = userTexts(first!).at(-1)!;
    expect(prompt).toContain('planning phase');
    expect(prompt).toContain('mainloop-question');
    expect(prompt.endsWith('Add a greeting.')).toBe(true);
  });

  it.skipIf(!BWRAP)('plans read-only inside bubblewrap too: commands run, a write is refused', async () => {
    const paths = await task();
    const { sandbox, close } = await openTestSandbox({
      dataDir: paths.dir,
      workspace: paths.cwd,
      home: paths.home,
      allowed: runtime().egress(),
      readOnlyWorkspace: true,
    });
    onTestFinished(close);
    api.enqueue(
      responses.command('cat README.md'),
      responses.command('echo sneaky > edit.txt'),
      responses.message('## Plan\n1. Add a greeting.'),
    );
    const { outcome, logs } = await run(runtime(), paths, { mode: 'plan', prompt: 'Add a greeting.', sandbox });
    expect(outcome).toMatchObject({ kind: 'plan', plan: '## Plan\n1. Add a greeting.' });
    expect(logs).toContainEqual({ kind: 'tool_result', text: expect.stringContaining('A demo project.') });
    expect(existsSync(path.join(paths.cwd, 'edit.txt'))).toBe(false);
  });

  it('asks with a fenced block, then resumes the same session with the answer', async () => {
    const paths = await task();
    const codex = runtime();
    api.enqueue(
      responses.message(
        'Before I plan:\n```mainloop-question\n{"questions":[{"header":"Store","question":"Which database?",' +
          '"options":[{"label":"Postgres"},{"label":"SQLite","description":"a file"}],"multiSelect":false}]}\n```',
        { inputTokens: 100, outputTokens: 20 },
      ),
    );
    const asked = await run(codex, paths, { mode: 'plan', prompt: 'Store the notes.' });
    expect(asked.outcome).toMatchObject({
      kind: 'question',
      questions: [
        {
          header: 'Store',
          text: 'Which database?',
          options: [{ label: 'Postgres' }, { label: 'SQLite', description: 'a file' }],
          multiSelect: false,
        },
      ],
    });
    const sessionId = asked.outcome.sessionId!;
    expect(sessionId).toBeTruthy();

    api.enqueue(responses.message('## Plan\nUse Postgres.', { inputTokens: 300, outputTokens: 25 }));
    const planned = await run(codex, paths, {
      mode: 'plan',
      sessionId,
      prompt: 'The person answered “Which database?”: Postgres',
    });
    expect(planned.outcome).toEqual({
      kind: 'plan',
      plan: '## Plan\nUse Postgres.',
      sessionId,
      // this run only, though Codex reports the session's total
      usage: { inputTokens: 300, outputTokens: 25 },
    });
    const resumed = api.requests[1]!;
    expect(resumed.headers['session-id']).toBe(sessionId);
    expect(historyHas(resumed, 'Which database?')).toBe(true);
    expect(userTexts(resumed).at(-1)).toContain('answered “Which database?”: Postgres');
    expect(userTexts(resumed).filter((text) => text.includes('Store the notes.'))).toHaveLength(1);
  });

  it('implements: files really change, commands really run, and the summary ends the run', async () => {
    const paths = await task();
    api.enqueue(
      responses.patch(
        [
          '*** Begin Patch',
          '*** Add File: src/greet.txt',
          '+hello',
          '*** Update File: README.md',
          '@@',
          '-A demo project.',
          '+A demo project that greets.',
          '*** End Patch',
        ].join('\n'),
      ),
      responses.command('cat src/greet.txt && echo checked > checked.txt'),
      responses.message('Added a greeting and checked it.'),
    );
    const { outcome, logs } = await run(runtime(), paths, { prompt: 'Add a greeting.' });
    expect(outcome).toMatchObject({ kind: 'done', summary: 'Added a greeting and checked it.' });
    expect(await readFile(path.join(paths.cwd, 'src/greet.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(path.join(paths.cwd, 'README.md'), 'utf8')).toContain('A demo project that greets.');
    expect(await readFile(path.join(paths.cwd, 'checked.txt'), 'utf8')).toBe('checked\n');
    expect(logs).toContainEqual({ kind: 'tool', text: 'edit: add src/greet.txt, update README.md' });
    expect(logs).toContainEqual({ kind: 'tool', text: expect.stringContaining('cat src/greet.txt') });
    expect(logs).toContainEqual({ kind: 'tool_result', text: 'hello\n(exit 0)' });
    expect(userTexts(api.requests[0]!).at(-1)).toContain('implementation phase');
  });

  it.skipIf(!BWRAP)(
    'implements inside bubblewrap, reaching its model API through the egress proxy: the workspace is writable, the rest of the machine is not there',
    async () => {
      const paths = await task();
      const outside = path.join(root, `outside-${taskCount}.txt`);
      const { sandbox, close } = await openTestSandbox({
        dataDir: paths.dir,
        workspace: paths.cwd,
        home: paths.home,
        allowed: runtime().egress(),
      });
      onTestFinished(close);
      api.enqueue(
        responses.command(`echo inside > inside.txt; echo outside > ${outside}; echo done`),
        responses.message('Tried both.'),
      );
      const { outcome, logs } = await run(runtime(), paths, { sandbox });
      expect(outcome).toMatchObject({ kind: 'done', summary: 'Tried both.' });
      expect(await readFile(path.join(paths.cwd, 'inside.txt'), 'utf8')).toBe('inside\n');
      // (the directory the file would go in is not in the sandbox at all)
      expect(existsSync(outside)).toBe(false);
      expect(logs).toContainEqual({ kind: 'tool_result', text: expect.stringContaining('done') });
    },
  );

  it('stops on abort: the whole process tree ends and the outcome is `stopped`', async () => {
    const paths = await task();
    api.enqueue(responses.command('sleep 60'));
    const controller = new AbortController();
    const running = run(runtime(), paths, { signal: controller.signal });
    // the launcher, the CLI, its sandbox, the shell and `sleep` all carry the task's marker
    const tree = await waitFor(() => {
      const found = processesOf(paths.marker);
      return found.some((entry) => entry.command === 'sleep') ? found : undefined;
    });
    expect(tree.map((entry) => entry.command)).toContain('codex');
    controller.abort();
    const { outcome } = await running;
    expect(outcome).toMatchObject({ kind: 'failed', error: 'stopped' });
    await waitFor(() => processesOf(paths.marker).length === 0);
  });

  it('fails with the API’s reason when the turn fails', async () => {
    const paths = await task();
    api.enqueue(
      responses.error(400, 'The model `gpt-nope` does not exist', 'invalid_request_error', 'model_not_found'),
    );
    const { outcome, logs } = await run(runtime(), paths, { model: 'gpt-nope' });
    expect(outcome).toMatchObject({ kind: 'failed', error: 'Codex failed: The model `gpt-nope` does not exist' });
    expect(outcome.sessionId).toBeTruthy();
    expect(logs).toContainEqual({ kind: 'stderr', text: 'The model `gpt-nope` does not exist' });
  });

  it('fails when the CLI exits non-zero, e.g. resuming a session that does not exist', async () => {
    const paths = await task();
    const { outcome } = await run(runtime(), paths, { sessionId: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
    expect(outcome.kind).toBe('failed');
    expect((outcome as { error: string }).error).toMatch(/^the Codex CLI exited with code \d+/);
  });

  it('fails when the CLI dies mid-stream', async () => {
    const paths = await task();
    api.enqueue(responses.command('sleep 60'));
    const running = run(runtime(), paths);
    const codex = await waitFor(() => {
      const found = processesOf(paths.marker);
      return found.some((entry) => entry.command === 'sleep')
        ? found.find((entry) => entry.command === 'codex')
        : undefined;
    });
    process.kill(codex.pid, 'SIGKILL');
    const { outcome } = await running;
    expect(outcome.kind).toBe('failed');
    expect((outcome as { error: string }).error).toMatch(/^the Codex CLI (exited with code|was killed by)/);
  });

  it('fails on output that is not the JSON event stream', async () => {
    const paths = await task();
    const { outcome, logs } = await run(runtime({ executable: '/bin/echo' }), paths);
    expect(outcome).toMatchObject({ kind: 'failed' });
    expect((outcome as { error: string }).error).toContain('not its JSON event stream');
    expect(logs).toContainEqual({ kind: 'stdout', text: expect.stringContaining('exec --json') });
  });

  it('says how to install the CLI when it is missing', async () => {
    const paths = await task();
    const { outcome } = await run(runtime({ executable: path.join(root, 'no-such-codex') }), paths);
    expect(outcome).toEqual({ kind: 'failed', error: expect.stringContaining('npm i -g @openai/codex') });
  });

  it('hands the CLI only the task’s environment and its own credentials', async () => {
    const paths = await task();
    const secret = 'postgres://mainloop:server-secret@127.0.0.1:5432/mainloop';
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = secret;
    try {
      // The command waits for the test to look at the CLI's environment while it runs.
      api.enqueue(
        responses.command('env > shell-env.txt; while [ ! -f go ]; do sleep 0.1; done'),
        responses.message('Looked.'),
      );
      const running = run(runtime(), paths, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: paths.home, MAINLOOP_TASK_MARKER: paths.marker },
      });
      await waitFor(async () => existsSync(path.join(paths.cwd, 'shell-env.txt')));
      const codex = processesOf(paths.marker).find((entry) => entry.command === 'codex')!;
      const codexEnv = (await readFile(`/proc/${codex.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
      await writeFile(path.join(paths.cwd, 'go'), '');
      const { outcome } = await running;
      expect(outcome.kind).toBe('done');
      // exactly the task's environment and the credentials (the npm launcher adds CODEX_MANAGED_*)
      const names = codexEnv
        .map((line) => line.slice(0, line.indexOf('=')))
        .filter((name) => !name.startsWith('CODEX_MANAGED_'));
      expect(names.sort()).toEqual(['CODEX_HOME', 'HOME', 'MAINLOOP_TASK_MARKER', 'OPENAI_API_KEY', 'PATH']);
      expect(codexEnv).toContain(`CODEX_HOME=${path.join(paths.home, '.codex')}`);
      expect(codexEnv).toContain(`OPENAI_API_KEY=${API_KEY}`);
      const shellEnv = await readFile(path.join(paths.cwd, 'shell-env.txt'), 'utf8');
      expect(shellEnv).toContain(`MAINLOOP_TASK_MARKER=${paths.marker}`);
      expect(shellEnv).not.toContain('server-secret');
      expect(existsSync(path.join(paths.home, '.codex', 'sessions'))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  describe('availability', () => {
    it('is available with the CLI and an API key, naming the version', async () => {
      const availability = await runtime().availability();
      expect(availability).toEqual({ available: true, reason: expect.stringMatching(/^runs codex-cli \d+\.\d+/) });
    });

    it('is available signed in under a Codex home, and says what to set without credentials', async () => {
      const home = path.join(root, 'signed-in');
      await mkdir(home, { recursive: true });
      const unsigned = await new CodexRuntime({ executable: CODEX, codexHome: home }).availability();
      expect(unsigned).toEqual({ available: false, reason: expect.stringContaining('OPENAI_API_KEY') });
      await writeFile(path.join(home, 'auth.json'), '{}');
      const signed = await new CodexRuntime({ executable: CODEX, codexHome: home }).availability();
      expect(signed).toEqual({ available: true, reason: expect.stringContaining(`signed in under ${home}`) });
    });
  });
});

/** The processes whose environment carries `marker` (this machine's /proc): a task's process tree. */
function processesOf(marker: string): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (!environ.split('\0').includes(`MAINLOOP_TASK_MARKER=${marker}`)) continue;
      const status = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (/\) Z /.test(status)) continue; // a zombie has ended
      found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/comm`, 'latin1').trim() });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function waitFor<T>(probe: () => Promise<T> | T, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
