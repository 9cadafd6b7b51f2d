import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnInSandbox, type SandboxProcess } from './sandbox-process.js';
import { BubblewrapSandbox, findBubblewrap, NoSandbox, type Sandbox } from './sandbox.js';

/** Processes run through the sandbox helper (`mainloop-sandbox`), not forked from the server. */
const SANDBOX_MODULE = fileURLToPath(new URL('./sandbox.ts', import.meta.url));
const PROCESS_MODULE = fileURLToPath(new URL('./sandbox-process.ts', import.meta.url));
const BWRAP = findBubblewrap();
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', MARKER: 'scrubbed' };

describe('spawnInSandbox', () => {
  it('streams stdout and stderr, gives the exit code, and passes only the environment it was given', async () => {
    const child = spawnInSandbox(new NoSandbox(), '/bin/sh', ['-c', 'echo out; echo err >&2; env; exit 3'], {
      cwd: '/tmp',
      env: ENV,
    });
    const [stdout, stderr, exit] = await Promise.all([text(child.stdout), text(child.stderr), exitOf(child)]);
    expect(exit).toEqual({ code: 3, signal: null });
    expect(stderr).toBe('err\n');
    const [first, ...environment] = stdout.trim().split('\n');
    expect(first).toBe('out');
    // (the shell adds its own PWD, and some shells SHLVL)
    const given = environment.filter((line) => !/^(PWD|SHLVL|_)=/.test(line));
    expect(given.sort()).toEqual(['MARKER=scrubbed', `PATH=${ENV.PATH}`]);
    expect(child.pid).toBeGreaterThan(0);
  });

  it('feeds stdin when asked for it', async () => {
    const child = spawnInSandbox(new NoSandbox(), 'cat', [], { cwd: '/tmp', env: ENV, stdin: true });
    child.stdin!.end('hello\n');
    const [stdout, exit] = await Promise.all([text(child.stdout), exitOf(child)]);
    expect(stdout).toBe('hello\n');
    expect(exit.code).toBe(0);
  });

  it('reports a command that cannot start as an error with its code', async () => {
    const child = spawnInSandbox(new NoSandbox(), '/nonexistent/agent', [], { cwd: '/tmp', env: ENV });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    expect(error.code).toBe('ENOENT');
    await child.ended;
    expect(await text(child.stdout)).toBe('');
  });

  const sandboxes: Array<[string, () => Sandbox]> = [['without a sandbox', () => new NoSandbox()]];
  if (BWRAP) {
    sandboxes.push([
      'in bubblewrap',
      () => new BubblewrapSandbox(BWRAP, { workspace: '/tmp', home: '/tmp', network: { kind: 'none' } }),
    ]);
  }
  it.each(sandboxes)(
    'ends the whole process tree on abort (%s), SIGKILL for what ignores SIGTERM',
    async (_, sandbox) => {
      const controller = new AbortController();
      // The shell ignores SIGTERM, and has a child.
      const child = spawnInSandbox(
        sandbox(),
        '/bin/sh',
        ['-c', 'trap "" TERM; sleep 60 & echo started; wait; wait; echo never'],
        { cwd: '/tmp', env: ENV, signal: controller.signal },
      );
      const output = text(child.stdout);
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const members = processTree(child.pid!);
      expect(members.length).toBeGreaterThanOrEqual(2);
      controller.abort();
      const exit = await exitOf(child);
      expect(exit.signal).not.toBeNull();
      expect(await output).toBe('started\n');
      await eventually(() => members.every((pid) => !alive(pid)));
    },
  );

  it('leaves no process behind when the server is killed with SIGKILL', async () => {
    // A stand-in for the server: it starts a tree through the helper, prints the tree's pid, and is killed.
    const server = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { NoSandbox } = await import(${JSON.stringify(SANDBOX_MODULE)});
         const { spawnInSandbox } = await import(${JSON.stringify(PROCESS_MODULE)});
         const child = spawnInSandbox(new NoSandbox(), '/bin/sh', ['-c', 'sleep 60 & echo $$; wait'], { cwd: '/tmp', env: ${JSON.stringify(ENV)} });
         child.stdout.on('data', (data) => process.stdout.write(data));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const leader = Number((await new Promise<Buffer>((resolve) => server.stdout!.once('data', resolve))).toString());
    const members = processTree(leader);
    expect(members.length).toBeGreaterThanOrEqual(2);
    server.kill('SIGKILL');
    await eventually(() => members.every((pid) => !alive(pid)));
  });

  it('ends the running processes, and fails their runs, when the helper dies; the next run starts a new one', async () => {
    const child = spawnInSandbox(new NoSandbox(), '/bin/sh', ['-c', 'sleep 60 & echo started; wait'], {
      cwd: '/tmp',
      env: ENV,
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const members = processTree(child.pid!);
    const helper = helperPid();
    process.kill(helper, 'SIGKILL');
    expect(await exitOf(child)).toEqual({ code: null, signal: 'SIGKILL' });
    await eventually(() => members.every((pid) => !alive(pid)));

    const next = spawnInSandbox(new NoSandbox(), '/bin/echo', ['again'], { cwd: '/tmp', env: ENV });
    expect(await text(next.stdout)).toBe('again\n');
    expect(helperPid()).not.toBe(helper);
  });
});

function text(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let all = '';
    stream.on('data', (chunk: Buffer) => (all += chunk.toString()));
    stream.on('end', () => resolve(all));
  });
}

function exitOf(child: SandboxProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** A process and all its descendants (bubblewrap's run in a session of their own). */
function processTree(root: number): number[] {
  const parents = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const tree = [root];
  for (let index = 0; index < tree.length; index++) {
    for (const [pid, parent] of parents) if (parent === tree[index]) tree.push(pid!);
  }
  return tree;
}

/** This process's sandbox helper. */
function helperPid(): number {
  const line = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .find((entry) => entry.includes('mainloop-sandbox'));
  if (!line) throw new Error('no sandbox helper is running');
  return Number(line.trim().split(/\s+/)[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+\s+Z/.test(execFileSync('ps', ['-o', 'pid=,stat=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
