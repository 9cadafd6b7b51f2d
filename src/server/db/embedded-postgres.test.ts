import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/logs.js';
import { isStartupRefused } from '../errors.js';
import { EmbeddedPostgres, letPostgresReachBinaries, type RunAs } from './embedded-postgres.js';

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describe('an embedded Postgres that dies while the server runs', () => {
  const { lines, logger } = captureLogs('debug');
  let postgres: EmbeddedPostgres;
  let dataDir: string;
  let url: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-pg-restart-'));
    directories.push(dataDir);
    postgres = new EmbeddedPostgres({ dataDir, logger, restartDelayMs: { first: 50, longest: 400 } });
    url = await postgres.start();
  });
  afterAll(() => postgres?.stop());

  const postmaster = () =>
    Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const answers = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.query<{ one: number }>('select 1 as one')).rows[0]?.one === 1;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  };
  const restarts = () => lines.filter((line) => line.msg === 'embedded postgres is running again').length;
  /** Kills the running postmaster and waits until another one is ready and answers at the same URL. */
  const killAndAwaitRestart = async () => {
    const killed = postmaster();
    const before = restarts();
    process.kill(killed, 'SIGKILL');
    await expect
      .poll(async () => restarts() > before && postmaster() !== killed && (await answers()), { timeout: 30_000 })
      .toBe(true);
  };

  it('starts it again on the same port, saying so at warn level with its last lines', async () => {
    expect(await answers()).toBe(true);
    await killAndAwaitRestart();
    expect(lines.find((line) => line.msg === 'embedded postgres exited unexpectedly')).toMatchObject({
      level: 40,
      signal: 'SIGKILL',
      exits: 1,
      lastLog: expect.arrayContaining([expect.stringContaining('database system is ready to accept connections')]),
    });
    expect(lines.find((line) => line.msg === 'embedded postgres is running again')).toMatchObject({
      level: 30,
      exits: 1,
    });
  });

  it('says at error level that it keeps dying, and goes on starting it', async () => {
    await killAndAwaitRestart();
    await killAndAwaitRestart();
    expect(lines.filter((line) => line.msg === 'embedded postgres exited unexpectedly')).toHaveLength(2);
    expect(lines.find((line) => String(line.msg).startsWith('embedded postgres keeps exiting'))).toMatchObject({
      level: 50,
      exits: 3,
      restartInMs: 200,
    });
    expect(await answers()).toBe(true);
  });
});

/** The postgres system user, as root on a machine that has one (mainloop creates it at its first start as root). */
function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

const ids = postgresUser();

describe.skipIf(!ids)('as root, the Postgres binaries in a checkout under a closed folder (such as /root)', () => {
  let realNative: string;
  beforeAll(async () => {
    const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
    realNative = path.dirname(path.dirname(binaries.postgres));
  });

  it('are made reachable by the postgres user: o+x on the folders above them, and nothing more', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'mainloop-root-like-'));
    directories.push(root);
    const checkout = path.join(root, 'checkout');
    const packageDir = path.join(checkout, 'node_modules', 'postgres-package');
    await mkdir(packageDir, { recursive: true });
    await chmod(root, 0o700);
    await chmod(checkout, 0o750);
    await symlink(realNative, path.join(packageDir, 'native'));
    const binDir = path.join(packageDir, 'native', 'bin');
    const runAsPostgres = () =>
      spawnSync(path.join(binDir, 'postgres'), ['--version'], { uid: ids!.uid, gid: ids!.gid, encoding: 'utf8' });
    expect(runAsPostgres().error).toMatchObject({ code: 'EACCES' }); // what `npm start` met: spawn …/initdb EACCES

    const { lines, logger } = captureLogs('debug');
    await letPostgresReachBinaries(binDir, ids!, logger);

    expect(runAsPostgres().stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);
    expect(((await stat(root)).mode & 0o777).toString(8)).toBe('701');
    expect(((await stat(checkout)).mode & 0o777).toString(8)).toBe('751');
    expect(lines.map((line) => [line.level, line.directory])).toEqual([
      [40, checkout],
      [40, root],
    ]);
  });

  it('are refused, naming the folder and the fix, when more than a search bit would be needed', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'mainloop-umask-077-'));
    directories.push(root);
    const native = path.join(root, 'native');
    for (const folder of ['bin', 'lib', 'share']) await mkdir(path.join(native, folder), { recursive: true });
    for (const binary of ['postgres', 'initdb']) await writeFile(path.join(native, 'bin', binary), '', { mode: 0o700 });

    const refusal = await letPostgresReachBinaries(path.join(native, 'bin'), ids!, captureLogs('debug').logger).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isStartupRefused(refusal)).toBe(true);
    expect((refusal as Error).message).toContain(path.join(native, 'bin', 'postgres'));
    expect((refusal as Error).message).toContain(`chmod -R o+rX ${native}`);
  });
});
