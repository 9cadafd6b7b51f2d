import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../../contract/projects.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { IdleTaskRunner } from '../tasks/index.js';
import { addUser } from '../thread/testing.js';

let server: TestServer;
let repo: string;

beforeAll(async () => {
  server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' }, taskRunner: new IdleTaskRunner() });
  repo = await mkdtemp(path.join(os.tmpdir(), 'ml-projects-'));
  git(repo, 'init', '-q', '-b', 'trunk');
  await writeFile(path.join(repo, 'a.txt'), 'a\n');
  git(repo, 'add', '.');
  git(repo, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '-q', '-m', 'first');
  git(repo, 'branch', 'release');
});
afterAll(async () => {
  await server?.close();
});

const api = (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
  headers = server.authHeaders,
) => server.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

describe('projects', () => {
  it('adds a local repository, reading its default branch; lists, renames, changes and removes it', async () => {
    const created = await api('POST', '/api/projects', { repo: { kind: 'local', path: repo }, checkCommand: 'true' });
    expect(created.statusCode, created.body).toBe(201);
    const project = created.json().project as Project;
    expect(project).toMatchObject({
      name: path.basename(repo),
      repo: { kind: 'local', path: repo },
      defaultBranch: 'trunk',
      checkCommand: 'true',
    });
    expect((await api('GET', '/api/projects')).json().projects).toEqual([project]);
    const again = await api('POST', '/api/projects', { repo: { kind: 'local', path: repo } });
    expect(again.statusCode).toBe(409);

    const patched = await api('PATCH', `/api/projects/${project.id}`, {
      name: 'mine',
      defaultBranch: 'release',
      checkCommand: null,
    });
    expect(patched.json().project).toMatchObject({ name: 'mine', defaultBranch: 'release' });
    expect(patched.json().project.checkCommand).toBeUndefined();
    expect((await api('PATCH', `/api/projects/${project.id}`, { defaultBranch: 'nope' })).statusCode).toBe(400);

    // A task names it; tasks cannot name a project that is gone.
    expect((await api('POST', '/api/tasks', { title: 't', prompt: 'p', projectId: project.id })).statusCode).toBe(201);
    expect((await api('DELETE', `/api/projects/${project.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/projects/${project.id}`)).statusCode).toBe(404);
    expect((await api('POST', '/api/tasks', { title: 't', prompt: 'p', projectId: project.id })).statusCode).toBe(400);
  });

  it('answers 400 naming the problem: not a repository, a subdirectory, no commits, a relative path, GitHub (not yet)', async () => {
    const plain = await mkdtemp(path.join(os.tmpdir(), 'ml-not-a-repo-'));
    const empty = await mkdtemp(path.join(os.tmpdir(), 'ml-empty-repo-'));
    git(empty, 'init', '-q');
    await mkdir(path.join(repo, 'sub'), { recursive: true });
    const cases: Array<[object, string]> = [
      [{ repo: { kind: 'local', path: plain } }, 'not a git repository'],
      // a file: git cannot even start there (this once killed the git helper, and every git call in flight)
      [{ repo: { kind: 'local', path: path.join(repo, 'a.txt') } }, 'not a git repository'],
      [{ repo: { kind: 'local', path: path.join(repo, 'sub') } }, 'give its top'],
      [{ repo: { kind: 'local', path: empty } }, 'no commits yet'],
      [{ repo: { kind: 'local', path: 'relative/path' } }, 'path must be absolute'],
      [{ repo: { kind: 'github', owner: 'me', name: 'x' } }, 'GitHub projects are not supported yet'],
      [{ repo: { kind: 'local', path: repo }, defaultBranch: 'no-such' }, 'has no branch no-such'],
      [{ repo: { kind: 'svn' } }, 'repo'],
    ];
    for (const [payload, mentions] of cases) {
      const response = await api('POST', '/api/projects', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().message).toContain(mentions);
    }
  });

  it('keeps each user’s projects to themselves', async () => {
    const other = await addUser(server, 'eve');
    const mine = (await api('POST', '/api/projects', { name: 'private', repo: { kind: 'local', path: repo } })).json()
      .project as Project;
    expect((await api('GET', '/api/projects', undefined, other.headers)).json().projects).toEqual([]);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const response = await api(
        method,
        `/api/projects/${mine.id}`,
        method === 'PATCH' ? { name: 'x' } : undefined,
        other.headers,
      );
      expect(response.statusCode, method).toBe(404);
    }
    const task = await api('POST', '/api/tasks', { title: 't', prompt: 'p', projectId: mine.id }, other.headers);
    expect(task.statusCode).toBe(400);
  });

  it('suggests the check command a repository’s build files name, to the owner only', async () => {
    await writeFile(
      path.join(repo, 'package.json'),
      JSON.stringify({ name: 'app', scripts: { test: 'node --test', secret: 'SECRET_TOKEN=abc ./deploy' } }),
    );
    const inspect = (where: string, headers = server.authHeaders) =>
      api('GET', `/api/projects/inspect?path=${encodeURIComponent(where)}`, undefined, headers);

    const found = await inspect(repo);
    expect(found.statusCode, found.body).toBe(200);
    // the command and where it came from; nothing else the files hold
    expect(found.json()).toEqual({ checkCommand: { command: 'npm test', source: "package.json's test script" } });
    expect(found.body).not.toContain('node --test');
    expect(found.body).not.toContain('SECRET_TOKEN');
    expect((await inspect(path.join(os.tmpdir(), 'ml-no-such-folder'))).json()).toEqual({ checkCommand: null });

    const relative = await inspect('code/app');
    expect(relative.statusCode).toBe(400);
    expect(relative.json().message).toContain('path must be absolute');
    expect((await api('GET', '/api/projects/inspect')).statusCode).toBe(400);

    // it reads this machine's files: for anyone but the owner it does not exist
    const other = await addUser(server, 'mallory');
    const refused = await inspect(repo, other.headers);
    expect(refused.statusCode).toBe(404);
    expect(refused.body).not.toContain('npm test');
  });

  it('lists the agent runtimes beside the model providers', async () => {
    const { runtimes } = (await api('GET', '/api/providers')).json();
    expect(runtimes.map((runtime: { name: string }) => runtime.name)).toEqual(['claude-code', 'codex', 'command']);
    expect(runtimes.find((runtime: { name: string }) => runtime.name === 'command')).toMatchObject({ available: true });
    expect(runtimes.find((runtime: { name: string }) => runtime.name === 'claude-code')).toMatchObject({
      default: true,
    });
  });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}
