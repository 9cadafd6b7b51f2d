import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BWRAP } from '../support/sandbox.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi, makeRepository } from '../support/tasks.js';

/**
 * Attacks (issue 13, points 2 and 3) from inside a `command` task, as a task would make them.
 * Before the fix the task kept every capability as root (`CapEff 000001fffeffffff`), remounted /
 * read-write and wrote to the host, and saw the whole machine read-only: other users' and the
 * server user's secrets, mainloop's port, the database, host sockets.
 */

const ROOT = process.getuid?.() === 0;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let server: TestServer;
let owner: ReturnType<typeof ownerApi>;
/** Secrets and sockets of the machine that no task may see. */
let outside: string;
let secretInServerHome: string;
let otherUsersSecret: string | undefined;
let hostSocket: net.Server;
let hostSocketPath: string;

beforeAll(async () => {
  outside = await mkdtemp(path.join(os.tmpdir(), 'mainloop-outside-'));
  await chmod(outside, 0o755);
  await writeFile(path.join(outside, 'secret.txt'), 'outside secret\n', { mode: 0o644 });
  // The server user's own secrets, as ~/.ssh or ~/.claude/.credentials.json would be.
  secretInServerHome = path.join(os.homedir(), `.mainloop-attack-secret-${process.pid}`);
  await writeFile(secretInServerHome, 'server user secret\n', { mode: 0o644 });
  // Another user's ~/.ssh, world-readable by mistake.
  if (ROOT && existsSync('/home')) {
    otherUsersSecret = path.join('/home', `mainloop-attack-${process.pid}`, '.ssh', 'id_rsa');
    await mkdir(path.dirname(otherUsersSecret), { recursive: true });
    await writeFile(otherUsersSecret, 'another user secret\n', { mode: 0o644 });
  }
  // A host socket, such as a docker.sock or an ssh-agent, with SSH_AUTH_SOCK pointing at it.
  hostSocketPath = path.join(outside, 'agent.sock');
  hostSocket = net.createServer((socket) => socket.end('host socket answered\n'));
  await new Promise<void>((resolve) => hostSocket.listen(hostSocketPath, resolve));
  await chmod(hostSocketPath, 0o777);
  process.env.SSH_AUTH_SOCK = hostSocketPath;
  server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' } });
  owner = ownerApi(server);
}, 60_000);
afterAll(async () => {
  delete process.env.SSH_AUTH_SOCK;
  await server?.close();
  hostSocket?.close();
  await rm(outside, { recursive: true, force: true });
  await rm(secretInServerHome, { force: true });
  if (otherUsersSecret) await rm(path.dirname(path.dirname(otherUsersSecret)), { recursive: true, force: true });
});

/** Runs `command` as a task (with a project, when given): its id and its whole log. */
async function runTaskWithId(command: string, projectId?: string): Promise<{ id: string; log: string }> {
  const done = await owner.runCommand(command, projectId ? { projectId } : {});
  const log = await owner.logText(done.id);
  expect(done.status, log).not.toBe('failed');
  return { id: done.id, log };
}

async function runTask(command: string, projectId?: string): Promise<string> {
  return (await runTaskWithId(command, projectId)).log;
}

/** A line of script that tries to connect to `host:port` (or a Unix socket path) and prints `<label>=<result>`. */
function tryConnect(label: string, target: { host: string; port: number } | { path: string }): string {
  const options = JSON.stringify(target);
  return `node -e 'const s=require("net").connect(${options});s.setTimeout(3000,()=>{console.log("${label}=timeout");process.exit()});s.on("connect",()=>{console.log("${label}=connected");process.exit()});s.on("error",(e)=>{console.log("${label}="+e.code);process.exit()})'`;
}

const PRIVILEGE_PROBE = `grep -E '^(CapEff|CapPrm|CapBnd)' /proc/self/status
mount -o remount,rw,bind / 2>/dev/null; echo "remount-root=$?"
mount -o remount,rw /usr 2>/dev/null; echo "remount-usr=$?"
unshare -r true 2>/dev/null; echo "new-userns-as-root=$?"
touch /usr/mainloop-attack-${process.pid} 2>/dev/null; echo "write-usr=$?"
touch owned-by-task; echo "uid=$(id -u)"`;

describe.skipIf(!BWRAP)('the sandbox holds (point 2)', () => {
  it('has no capabilities, cannot remount or write the system, and runs as an unprivileged user', async () => {
    const { id, log } = await runTaskWithId(PRIVILEGE_PROBE);
    expect(log).toMatch(/^new-userns-as-root=[1-9]/m);
    expect(log).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(log).toMatch(/^CapPrm:\s+0000000000000000$/m);
    expect(log).toMatch(/^CapBnd:\s+0000000000000000$/m);
    expect(log).toMatch(/^remount-root=[1-9]/m);
    expect(log).toMatch(/^remount-usr=[1-9]/m);
    expect(log).toMatch(/^write-usr=[1-9]/m);
    expect(existsSync(`/usr/mainloop-attack-${process.pid}`)).toBe(false);
    if (ROOT) {
      // Outside, its files belong to the task user: not root, whatever it looks like inside.
      const owned = await stat(path.join(server.dataDir, 'workspaces', id, 'owned-by-task'));
      expect(owned.uid).not.toBe(0);
    }
  });

  it.skipIf(!ROOT)(
    'holds as well for a server run by a normal user',
    async () => {
      // The same sandbox, opened by a process of an unprivileged user (nobody) as its server would.
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-normal-user-'));
      await chown(dataDir, 65534, 65534);
      const script = `
      import { Sandboxes } from ${JSON.stringify(path.join(REPO, 'src/server/workers/sandboxes.ts'))};
      import { spawnInSandbox } from ${JSON.stringify(path.join(REPO, 'src/server/workers/sandbox-process.ts'))};
      import { mkdirSync } from 'node:fs';
      import pino from 'pino';
      const dataDir = ${JSON.stringify(dataDir)};
      const workspace = dataDir + '/workspace';
      mkdirSync(workspace);
      const sandboxes = new Sandboxes({ mode: 'bubblewrap', bwrap: ${JSON.stringify(BWRAP)}, dataDir, readOnly: [], logger: pino({ level: 'silent' }) });
      const { sandbox, close } = await sandboxes.open({ taskId: 't', workspace, home: workspace, network: undefined });
      const child = spawnInSandbox(sandbox, '/bin/sh', ['-c', ${JSON.stringify(PRIVILEGE_PROBE)}], { cwd: workspace, env: { PATH: '/usr/bin:/bin' } });
      child.stdout.pipe(process.stdout);
      child.stderr.pipe(process.stderr);
      child.once('exit', async () => { await close(); process.exit(0); });
    `;
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: REPO,
          uid: 65534,
          gid: 65534,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dataDir, TMPDIR: dataDir },
        });
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
        child.once('error', reject);
        child.once('exit', () => resolve(text));
      });
      await rm(dataDir, { recursive: true, force: true });
      expect(output).toMatch(/^CapEff:\s+0000000000000000$/m);
      expect(output).toMatch(/^remount-root=[1-9]/m);
      expect(output).toMatch(/^remount-usr=[1-9]/m);
      expect(output).toMatch(/^write-usr=[1-9]/m);
      expect(output).toMatch(/^uid=65534$/m);
    },
    60_000,
  );
});

describe.skipIf(!BWRAP)('the sandbox shows only what the task needs (point 3)', () => {
  it('sees no other home, no data directory, no server secret, no host socket', async () => {
    await writeFile(path.join(server.dataDir, 'postgres.password'), 'not for tasks\n', { mode: 0o644 });
    const home = os.homedir();
    const log = await runTask(`ls -a / | tr '\\n' ' '; echo
cat "${secretInServerHome}" 2>/dev/null; echo "server-home-secret=$?"
cat "${path.join(outside, 'secret.txt')}" 2>/dev/null; echo "outside-secret=$?"
${otherUsersSecret ? `cat "${otherUsersSecret}" 2>/dev/null; echo "other-user-secret=$?"` : ''}
cat "${path.join(server.dataDir, 'postgres.password')}" 2>/dev/null; echo "data-dir-secret=$?"
echo "server-home-listing=[$(ls -a "${home}" 2>/dev/null | tr '\\n' ' ')]"
ls /var/run/docker.sock /run/docker.sock 2>/dev/null; echo "docker-sock=$?"
echo "ssh-auth-sock=[$SSH_AUTH_SOCK]"
${tryConnect('host-socket', { path: hostSocketPath })}`);
    expect(log).toMatch(/^server-home-secret=[1-9]/m);
    expect(log).toMatch(/^outside-secret=[1-9]/m);
    if (otherUsersSecret) expect(log).toMatch(/^other-user-secret=[1-9]/m);
    expect(log).toMatch(/^data-dir-secret=[1-9]/m);
    // (a toolchain on PATH under the server's home, such as ~/.cargo/bin, may show, read-only; nothing else of it)
    const listing = /^server-home-listing=\[(.*)\]$/m.exec(log)?.[1] ?? '';
    expect(listing).not.toContain(path.basename(secretInServerHome));
    expect(listing).not.toMatch(/\.ssh|\.gitconfig|\.bashrc/);
    expect(log).toMatch(/^docker-sock=[1-9]/m);
    expect(log).toMatch(/^ssh-auth-sock=\[\]$/m);
    expect(log).toMatch(/^host-socket=ENOENT$/m);
    expect(log).not.toContain('secret\n');
    expect(log).not.toContain('host socket answered');
  });

  it('reaches no network: not mainloop, not its database, not the machine’s other addresses', async () => {
    const databasePort = Number(new URL(server.testDatabase.url).port);
    const serverPort = Number(new URL(server.url).port);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((entry) => entry && entry.family === 'IPv4' && !entry.internal);
    const log = await runTask(
      [
        tryConnect('mainloop', { host: '127.0.0.1', port: serverPort }),
        tryConnect('database', { host: '127.0.0.1', port: databasePort }),
        ...(external ? [tryConnect('external', { host: external.address, port: serverPort })] : []),
        tryConnect('internet', { host: '1.1.1.1', port: 443 }),
      ].join('\n'),
    );
    expect(log).toMatch(/^mainloop=ECONNREFUSED$/m);
    expect(log).toMatch(/^database=ECONNREFUSED$/m);
    if (external) expect(log).toMatch(/^external=(ENETUNREACH|EHOSTUNREACH|ECONNREFUSED)$/m);
    expect(log).toMatch(/^internet=(ENETUNREACH|EHOSTUNREACH|timeout)$/m);
  });

  it('with a project that allows the network: only through mainloop’s proxy, which refuses this machine', async () => {
    const repo = await makeRepository();
    const created = await owner.call('POST', '/api/projects', {
      repo: { kind: 'local', path: repo },
      allowNetwork: true,
    });
    expect(created.statusCode).toBe(201);
    const serverPort = Number(new URL(server.url).port);
    // CONNECT through the proxy the sandbox names (HTTPS_PROXY), to mainloop itself.
    const viaProxy = `node -e 'const u=new URL(process.env.HTTPS_PROXY);const s=require("net").connect(+u.port,u.hostname,()=>s.write("CONNECT 127.0.0.1:${serverPort} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"));s.once("data",(d)=>{console.log("proxy="+d.toString().split("\\r\\n")[0]);process.exit()});s.on("error",(e)=>{console.log("proxy="+e.code);process.exit()})'`;
    const log = await runTask(
      [`echo "https-proxy=$HTTPS_PROXY"`, viaProxy, tryConnect('direct', { host: '127.0.0.1', port: serverPort })].join(
        '\n',
      ),
      created.json().project.id,
    );
    expect(log).toMatch(/^https-proxy=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(log).toMatch(/^proxy=HTTP\/1\.1 403/m);
    expect(log).toMatch(/^direct=ECONNREFUSED$/m);
    await rm(repo, { recursive: true, force: true });
  });
});
