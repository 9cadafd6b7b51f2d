import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BWRAP } from '../support/sandbox.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/**
 * Attack (issue 13, point 4), continued: bubblewrap in force is said, and bubblewrap removed while
 * the server runs fails the next task with a sentence (before: `spawn /usr/bin/bwrap ENOENT`).
 */

let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
});

describe.skipIf(!BWRAP)('with bubblewrap', () => {
  it('says it is in force, and fails a task with a plain sentence once bubblewrap vanished', async () => {
    const bin = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bwrap-'));
    const bwrap = path.join(bin, 'bwrap');
    await copyFile(BWRAP!, bwrap);
    await chmod(bin, 0o755);
    await chmod(bwrap, 0o755);
    try {
      server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' }, bubblewrap: bwrap });
      const status = await ownerApi(server).sandbox();
      expect(status.kind).toBe('bubblewrap');
      expect(status.summary).toMatch(/^Tasks run in bubblewrap/);
      expect((await ownerApi(server).runCommand('echo first')).status).toBe('completed');
      await rm(bwrap);
      const failed = await ownerApi(server).runCommand('echo second');
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/^No sandbox: bubblewrap \(.*bwrap\) is no longer installed\. Install bubblewrap/);
      expect(failed.error).not.toMatch(/ENOENT/);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
