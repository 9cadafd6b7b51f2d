import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/**
 * Attack (issue 13, point 4): no sandbox, and nobody told. Before the fix, without bubblewrap
 * tasks ran unconfined with no word anywhere, and when bubblewrap vanished while the server ran,
 * tasks failed with `spawn /usr/bin/bwrap ENOENT`. Now no task runs unconfined unless
 * MAINLOOP_SANDBOX=none says so; GET /api/providers (and the settings page) says which sandbox is
 * in force and how to install bubblewrap; a task that cannot be sandboxed fails with that sentence.
 */

let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
});

describe('without bubblewrap', () => {
  it('refuses to run a task, saying how to install bubblewrap; nothing runs unconfined', async () => {
    server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' }, bubblewrap: null });
    const status = await ownerApi(server).sandbox();
    expect(status.kind).toBe('unavailable');
    expect(status.summary).toMatch(/bubblewrap \(bwrap\) is not installed/);
    expect(status.summary).toMatch(/apt-get install bubblewrap/);
    expect(status.summary).toMatch(/MAINLOOP_SANDBOX=none/);
    expect(status.install).toMatch(/apt-get install bubblewrap/);

    const marker = path.join(server.dataDir, 'ran-unconfined');
    const failed = await ownerApi(server).runCommand(`touch ${marker}`);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(status.summary);
    expect(existsSync(marker)).toBe(false);
  });
});
