// Helpers shared by the npm scripts (start, test, build, bench). Plain Node: they run before
// dependencies are installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function log(message) {
  process.stderr.write(`[mainloop] ${message}\n`);
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

/** Installs dependencies when node_modules is missing or older than package-lock.json. */
export function ensureDependencies() {
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.mainloop-installed');
  const wanted = existsSync(lock)
    ? hash(readFileSync(lock)) + hash(readFileSync(path.join(root, 'package.json')))
    : 'none';
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  log('installing dependencies (first start, or package-lock.json changed)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error'], {
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  writeFileSync(stamp, wanted);
}

/** The newest modification time of any file under these paths (skipping node_modules). */
export function newestMtime(paths) {
  let newest = 0;
  const visit = (target) => {
    if (!existsSync(target)) return;
    const stat = statSync(target);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(target)) {
        if (entry !== 'node_modules' && !entry.startsWith('.')) visit(path.join(target, entry));
      }
    } else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const target of paths) visit(path.join(root, target));
  return newest;
}

function hash(content) {
  return createHash('sha256').update(content).digest('hex').slice(0, 16);
}
