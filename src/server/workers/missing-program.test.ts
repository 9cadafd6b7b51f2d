import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { ownerApi } from '../../../test/support/tasks.js';
import { explainMissingProgram, missingProgram } from './missing-program.js';
import { CommandRuntime } from './runtimes/command.js';

describe('a program that is not installed', () => {
  it('is found in what Node and bubblewrap say, and only there', () => {
    expect(missingProgram('Claude Code could not run: Failed to spawn Claude Code process: spawn node ENOENT')).toBe(
      'node',
    );
    expect(missingProgram('the command exited with code 1:\nbwrap: execvp codex: No such file or directory')).toBe(
      'codex',
    );
    expect(missingProgram('could not open /etc/app.conf: ENOENT')).toBeUndefined();
    expect(missingProgram('the command exited with code 127:\nsh: 1: foo: not found')).toBeUndefined();
  });

  it('makes a task’s failure say which program is missing and how to install it', () => {
    expect(explainMissingProgram('could not start the Codex CLI: spawn codex ENOENT')).toBe(
      'The task could not start `codex`: it is not installed on this machine (or not where mainloop looks for it). Install the Codex CLI with `npm i -g @openai/codex`, then retry the task.',
    );
    expect(explainMissingProgram('git clone failed: spawn git ENOENT')).toContain('sudo apt-get install git');
    expect(explainMissingProgram('spawn /opt/tools/lint ENOENT')).toContain(
      '`/opt/tools/lint`: it is not installed on this machine',
    );
    expect(explainMissingProgram('the command exited with code 2')).toBe('the command exited with code 2');
  });
});

describe('a task whose program is not installed (MAINLOOP_SANDBOX=none, as the issue saw it)', () => {
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it('fails with a sentence naming the program, never `spawn … ENOENT`', async () => {
    server = await startTestServer({
      env: { MAINLOOP_MODEL_PROVIDER: 'none', MAINLOOP_SANDBOX: 'none' },
      bubblewrap: null,
      runtimes: [new CommandRuntime({ shell: '/opt/mainloop-test/no-such-shell' })],
    });
    const failed = await ownerApi(server).runCommand('echo hello');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(
      'The task could not start `/opt/mainloop-test/no-such-shell`: it is not installed on this machine (or not where mainloop looks for it). Install it there, or change what names it, then retry the task.',
    );
    const { messages } = (
      await server.app.inject({ method: 'GET', url: '/api/thread/messages?limit=5', headers: server.authHeaders })
    ).json() as { messages: Array<{ role: string; content: string }> };
    const note = messages.findLast((message) => message.role === 'event');
    expect(note?.content).toContain('could not start `/opt/mainloop-test/no-such-shell`');
    expect(note?.content).not.toMatch(/ENOENT/);
  });
});
