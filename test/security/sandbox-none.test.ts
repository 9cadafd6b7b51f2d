import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/** Attack (issue 13, point 4), continued: unconfined only when the person says so — and then said plainly. */

let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
});

async function runCommand(current: TestServer, command: string) {
  const owner = ownerApi(current);
  const task = await owner.createTask({ title: 'Run', prompt: 'x', runtime: 'command', command });
  return owner.waitForTask(task.id, (t) => t.status === 'completed' || t.status === 'failed', { timeout: 60_000 });
}

async function sandboxStatus(current: TestServer) {
  const response = await ownerApi(current).call('GET', '/api/providers');
  expect(response.statusCode).toBe(200);
  return response.json().sandbox as { kind: string; summary: string; install?: string };
}

describe('MAINLOOP_SANDBOX=none', () => {
  it('runs tasks unconfined only when MAINLOOP_SANDBOX=none says so, and says that too', async () => {
    server = await startTestServer({
      env: { MAINLOOP_MODEL_PROVIDER: 'none', MAINLOOP_SANDBOX: 'none' },
      bubblewrap: null,
    });
    const status = await sandboxStatus(server);
    expect(status.kind).toBe('none');
    expect(status.summary).toMatch(/MAINLOOP_SANDBOX=none: tasks run unconfined/);
    const done = await runCommand(server, 'echo hello');
    expect(done.status).toBe('completed');
  });
});
