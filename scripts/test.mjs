#!/usr/bin/env node
// `npm test`: install what is needed (dependencies, Chromium and bubblewrap from Debian, the Codex
// CLI for its runtime's tests), build, run every test (unit, integration on embedded Postgres,
// lifecycle, browser), and end with `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDependencies, log, root } from './lib.mjs';

const CHROMIUM = process.env.MAINLOOP_CHROMIUM_PATH || '/usr/bin/chromium';
/** The Codex CLI the codex runtime's tests drive (against a local fake of the Responses API). */
const CODEX_VERSION = '0.169.0';
const CODEX_DIR = path.join(root, 'node_modules/.cache/mainloop-codex');
const CODEX = process.env.MAINLOOP_CODEX_PATH || path.join(CODEX_DIR, 'node_modules/.bin/codex');

ensureDependencies();
ensureDebianPackages();
ensureCodex();
const { build } = await import('./build.mjs');
await build();

mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
const report = path.join(root, 'test-artifacts', 'vitest-report.json');
const vitest = spawnSync(
  process.execPath,
  [
    path.join(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      MAINLOOP_CHROMIUM_PATH: CHROMIUM,
      ...(existsSync(CODEX) ? { MAINLOOP_CODEX_PATH: CODEX } : {}),
    },
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const results = JSON.parse(readFileSync(report, 'utf8'));
  passed = results.numPassedTests ?? 0;
  failed = results.numFailedTests ?? 0;
  skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
}
if (vitest.status !== 0 && failed === 0) failed = 1; // a file failed to load, or the runner itself failed
const status = vitest.status === 0 && failed === 0 && passed > 0 ? 0 : 1;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status);

/**
 * Browser tests drive Debian's Chromium; workers run in bubblewrap where it exists (and the tests
 * check the sandbox). Install what is missing, as root, from apt.
 */
function ensureDebianPackages() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push('chromium', 'fonts-dejavu-core');
  if (!existsSync('/usr/bin/bwrap')) missing.push('bubblewrap');
  if (!missing.length) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    if (!existsSync(CHROMIUM)) {
      log(
        `Chromium not found at ${CHROMIUM}. Install it (Debian: sudo apt-get install -y chromium) or set MAINLOOP_CHROMIUM_PATH.`,
      );
      process.exit(1);
    }
    log(
      'bubblewrap (bwrap) is not installed: the sandbox tests will be skipped (Debian: sudo apt-get install -y bubblewrap).',
    );
    return;
  }
  log(`installing ${missing.join(', ')} from Debian for the tests (about a minute)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      log(`apt-get ${args.join(' ')} failed`);
      process.exit(1);
    }
  }
}

/** The Codex CLI from npm, into a cache of the test run's own (not a dependency of mainloop: it is large). */
function ensureCodex() {
  if (existsSync(CODEX)) return;
  log(`installing the Codex CLI ${CODEX_VERSION} for the codex runtime's tests…`);
  mkdirSync(CODEX_DIR, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    [
      'install',
      '--prefix',
      CODEX_DIR,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `@openai/codex@${CODEX_VERSION}`,
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0)
    log('could not install the Codex CLI: its runtime tests against the real CLI will be skipped');
}
