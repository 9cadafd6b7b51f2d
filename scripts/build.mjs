#!/usr/bin/env node
// Builds what is out of date: the server bundle (esbuild) and the web app (Vite).
// `node scripts/build.mjs --force` rebuilds both.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDependencies, log, newestMtime, root, run } from './lib.mjs';

const SERVER_OUT = path.join(root, 'dist/server/main.js');
const WEB_OUT = path.join(root, 'dist/web/index.html');
const SERVER_INPUTS = ['src/server', 'src/contract', 'package.json', 'package-lock.json'];
const WEB_INPUTS = ['src/web', 'src/contract', 'vite.config.ts', 'package-lock.json'];

export async function build({ force = false } = {}) {
  if (force || isStale(SERVER_OUT, SERVER_INPUTS)) {
    log('building the server…');
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [path.join(root, 'src/server/main.ts')],
      outfile: SERVER_OUT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
    });
  }
  if (force || isStale(WEB_OUT, WEB_INPUTS)) {
    log('building the web app…');
    run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  }
}

function isStale(output, inputs) {
  return !existsSync(output) || statSync(output).mtimeMs < newestMtime(inputs);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureDependencies();
  await build({ force: process.argv.includes('--force') });
}
