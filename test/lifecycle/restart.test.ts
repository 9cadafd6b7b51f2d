import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withDatabaseName } from '../../src/server/db/database.js';
import { freePort } from '../../src/server/db/embedded-postgres.js';
import { ChildNode, isAlive, poll, postmasterPidFile, postmastersFor } from './helpers/processes.js';

/**
 * The real entry point (src/server/main.ts, through tsx) as a child process, killed in the ways a
 * laptop kills it, and started again on the same data directory.
 */
const TOKEN = 'lifecycle-test-token-0123456789';
const MAIN = 'src/server/main.ts';
const HEALTHY_WITHIN_MS = 60_000;
const auth = { authorization: `Bearer ${TOKEN}` };

interface Mainloop {
  node: ChildNode;
  url: string;
}

async function startMainloop(options: {
  dataDir: string;
  databaseUrl?: string;
  detached?: boolean;
  port?: number;
  postgresPort?: number;
  executorId?: string;
}): Promise<Mainloop> {
  const port = options.port ?? (await freePort());
  const node = new ChildNode(MAIN, {
    env: {
      MAINLOOP_DATA_DIR: options.dataDir,
      PORT: String(port),
      MAINLOOP_API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
      MAINLOOP_MODEL_PROVIDER: 'none',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...(options.postgresPort ? { MAINLOOP_EMBEDDED_PG_PORT: String(options.postgresPort) } : {}),
      ...(options.executorId ? { MAINLOOP_EXECUTOR_ID: options.executorId } : {}),
    },
    detached: options.detached,
  });
  return { node, url: `http://127.0.0.1:${port}` };
}

async function waitHealthy({ node, url }: Mainloop): Promise<void> {
  await poll(`${url} to be healthy`, HEALTHY_WITHIN_MS, async () => {
    node.assertRunning();
    const response = await fetch(`${url}/api/health`);
    return response.ok ? true : undefined;
  });
}

async function stop(mainloop: Mainloop): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  mainloop.node.child.kill('SIGTERM');
  return mainloop.node.waitForExit(15_000);
}

async function patchSettings(url: string, patch: Record<string, string>): Promise<void> {
  const response = await fetch(`${url}/api/settings`, {
    method: 'PATCH',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

async function settings(url: string): Promise<Record<string, string>> {
  const response = await fetch(`${url}/api/settings`, { headers: auth });
  expect(response.status).toBe(200);
  return ((await response.json()) as { settings: Record<string, string> }).settings;
}

const running: Mainloop[] = [];
const directories: string[] = [];
async function tempDir(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'mainloop-lifecycle-'));
  directories.push(directory);
  return directory;
}
/** Runs `action` with a loopback port that something else listens on. */
async function withTakenPort(action: (port: number) => Promise<void>): Promise<void> {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    await action((taken.address() as net.AddressInfo).port);
  } finally {
    taken.close();
  }
}

async function launch(options: Parameters<typeof startMainloop>[0]): Promise<Mainloop> {
  const mainloop = await startMainloop(options);
  running.push(mainloop);
  return mainloop;
}

afterAll(async () => {
  for (const { node } of running) await node.kill({ group: node.detached }).catch(() => {});
  for (const directory of directories) {
    for (const pid of postmastersFor(directory)) process.kill(pid, 'SIGKILL');
    await rm(directory, { recursive: true, force: true });
  }
});

describe('mainloop on an embedded Postgres, killed and started again', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tempDir(); // the first start creates the cluster in it
  });

  /** SIGTERM: exit code 0 within seconds, and its Postgres stopped cleanly (postmaster.pid removed). */
  async function stopsCleanly(mainloop: Mainloop): Promise<void> {
    const postmaster = postmasterPidFile(dataDir);
    const started = Date.now();
    expect(await stop(mainloop)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    if (postmaster) expect(isAlive(postmaster)).toBe(false);
    expect(postmasterPidFile(dataDir)).toBeUndefined();
    expect(postmastersFor(dataDir)).toEqual([]);
  }

  it('comes back with its data after the Node process alone is killed (Postgres orphaned), refuses a second start beside it, and stops cleanly', async () => {
    const first = await launch({ dataDir });
    await waitHealthy(first);
    await patchSettings(first.url, { timeZone: 'Europe/Berlin' });
    const orphan = postmasterPidFile(dataDir)!;

    await first.node.kill();
    expect(isAlive(orphan)).toBe(true); // Postgres outlived its parent

    const second = await launch({ dataDir });
    await waitHealthy(second);
    expect(isAlive(orphan)).toBe(false); // the orphan was stopped, not left beside the new one
    expect(postmastersFor(dataDir)).toHaveLength(1);
    expect(await settings(second.url)).toMatchObject({ timeZone: 'Europe/Berlin' });

    // A second start on the data directory of a running one refuses, saying what to do (no stack).
    const another = await launch({ dataDir });
    expect(await another.node.waitForExit(HEALTHY_WITHIN_MS)).toEqual({ code: 1, signal: null });
    expect(another.node.output()).toContain(
      `mainloop failed to start: another mainloop (pid ${second.node.pid}) is already running on ${dataDir}; stop it first or set MAINLOOP_DATA_DIR`,
    );
    expect(another.node.output()).not.toMatch(/^\s+at /m);
    await stopsCleanly(second);
  });

  it('comes back with its data after its whole process group is killed (Postgres crashed), and stops cleanly', async () => {
    const first = await launch({ dataDir, detached: true });
    await waitHealthy(first);
    await patchSettings(first.url, { theme: 'nord' });
    const postmaster = postmasterPidFile(dataDir)!;

    await first.node.kill({ group: true });
    await poll('postgres to die with its group', 10_000, () => (isAlive(postmaster) ? undefined : true));
    expect(postmasterPidFile(dataDir)).toBe(postmaster); // left behind: an unclean stop

    const second = await launch({ dataDir });
    await waitHealthy(second);
    expect(await settings(second.url)).toMatchObject({ theme: 'nord' });
    await stopsCleanly(second);
  });

  it('exits with 1 and leaves no Postgres running when start-up fails (its port is taken)', async () => {
    await withTakenPort(async (port) => {
      const mainloop = await launch({ dataDir, port });
      expect(await mainloop.node.waitForExit(HEALTHY_WITHIN_MS)).toEqual({ code: 1, signal: null });
      expect(mainloop.node.output()).toMatch(/mainloop failed to start: .*EADDRINUSE/);
      expect(postmastersFor(dataDir)).toEqual([]);
      expect(postmasterPidFile(dataDir)).toBeUndefined();
    });
  });

  it("exits with 1 and Postgres's own reason when Postgres cannot start (its port is taken)", async () => {
    await withTakenPort(async (port) => {
      const mainloop = await launch({ dataDir, postgresPort: port });
      expect(await mainloop.node.waitForExit(HEALTHY_WITHIN_MS)).toEqual({ code: 1, signal: null });
      const output = mainloop.node.output();
      expect(output).toMatch(/mainloop failed to start: Error: embedded postgres exited during start-up/);
      expect(output).toMatch(/Address already in use/);
      expect(output).not.toMatch(/unhandled/i);
      expect(postmastersFor(dataDir)).toEqual([]);
    });
  });

  it('stops cleanly on a SIGTERM that arrives during start-up', async () => {
    const mainloop = await launch({ dataDir });
    // Postgres has been spawned, the server is not listening yet.
    await poll(
      'postgres to be spawned',
      HEALTHY_WITHIN_MS,
      () => {
        mainloop.node.assertRunning();
        return postmastersFor(dataDir).length ? true : undefined;
      },
      5,
    );
    expect(await stop(mainloop)).toEqual({ code: 0, signal: null });
    expect(postmastersFor(dataDir)).toEqual([]);
    expect(postmasterPidFile(dataDir)).toBeUndefined();
  });
});

describe('two instances on one external database', () => {
  it('start together: both healthy, the migrations applied once; a third under a live one’s executor id waits', async () => {
    // An empty database (not the migrated template), so both instances find work to do.
    const adminUrl = inject('postgresAdminUrl');
    const name = `lifecycle_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const databaseUrl = withDatabaseName(adminUrl, name);
    try {
      const instances = [
        await launch({ dataDir: await tempDir(), databaseUrl }),
        await launch({ dataDir: await tempDir(), databaseUrl, executorId: 'mainloop-2' }),
      ];
      await Promise.all(instances.map(waitHealthy));
      // A server under the executor id of one still running would resume that one's workflows: it
      // waits for the id to be free (and gives up after a minute), saying why.
      const third = await launch({ dataDir: await tempDir(), databaseUrl, executorId: 'local' });
      await third.node.waitForLog((line) => String(line.msg).includes('MAINLOOP_EXECUTOR_ID'), HEALTHY_WITHIN_MS);
      expect((await fetch(`${third.url}/api/health`).catch(() => undefined))?.ok).not.toBe(true);
      await third.node.kill();

      const migratedBy = instances.filter(({ node }) => node.logs().some((line) => line.msg === 'database migrated'));
      expect(migratedBy).toHaveLength(1);
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number; count: string }>(
          'select version, count(*) from schema_migrations group by version order by version',
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.count === '1')).toBe(true);
        const owners = await client.query('select id from users where is_owner');
        expect(owners.rowCount).toBe(1);
      } finally {
        await client.end();
      }
      // Either instance serves the owner's token.
      for (const { url } of instances) expect((await fetch(`${url}/api/settings`, { headers: auth })).status).toBe(200);
      for (const instance of instances) expect(await stop(instance)).toEqual({ code: 0, signal: null });
    } finally {
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
