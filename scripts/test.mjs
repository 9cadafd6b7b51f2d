#!/usr/bin/env node
// `npm test`: install what is needed (dependencies, Chromium from Debian), build, run every test
// (unit, integration on embedded Postgres, lifecycle, browser), and end with `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDependencies, log, root } from './lib.mjs';

const CHROMIUM = process.env.MAINLOOP_CHROMIUM_PATH || '/usr/bin/chromium';

ensureDependencies();
ensureChromium();
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
  { cwd: root, stdio: 'inherit', env: { ...process.env, MAINLOOP_CHROMIUM_PATH: CHROMIUM } },
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

/** Browser tests drive Debian's Chromium; install it when missing (as root, from apt). */
function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    log(
      `Chromium not found at ${CHROMIUM}. Install it (Debian: sudo apt-get install -y chromium) or set MAINLOOP_CHROMIUM_PATH.`,
    );
    process.exit(1);
  }
  log('installing Chromium from Debian for the browser tests (about a minute)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-dejavu-core']]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      log(`apt-get ${args.join(' ')} failed`);
      process.exit(1);
    }
  }
}
