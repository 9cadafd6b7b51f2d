import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/** Attack (issue 13, point 4), continued: unconfined only when the person says so — and then said plainly. */

let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
});

describe('MAINLOOP_SANDBOX=none', () => {
  it('runs tasks unconfined only when MAINLOOP_SANDBOX=none says so, and says that too', async () => {
    server = await startTestServer({
      env: { MAINLOOP_MODEL_PROVIDER: 'none', MAINLOOP_SANDBOX: 'none' },
      bubblewrap: null,
    });
    const status = await ownerApi(server).sandbox();
    expect(status.kind).toBe('none');
    expect(status.summary).toMatch(/MAINLOOP_SANDBOX=none: tasks run unconfined/);
    const done = await ownerApi(server).runCommand('echo hello');
    expect(done.status).toBe('completed');
  });
});
