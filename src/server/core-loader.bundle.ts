import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { CoreLoadOptions, LoadedCore } from './core-loader.js';

/** The core's file name in dist/server (content-hashed), set by scripts/build.mjs. */
declare const MAINLOOP_CORE_FILE: string;

/**
 * The bundle's `loadCore` (scripts/build.mjs puts it in place of core-loader.ts): runs the core,
 * prebuilt as one CommonJS file, from V8's code cache when there is one. Compiling the core's
 * megabytes of JavaScript is most of start-up's CPU time; Node 22 could cache ES modules itself
 * (`module.enableCompileCache`), Node 20 cannot, and a script can on both (docs/decisions/0015).
 *
 * The cache is keyed by the core's content hash (its file name), Node's version and the CPU
 * architecture; V8 also checks its own version and flags and rejects a cache that does not fit,
 * in which case the core compiles as if there were none and the cache is written anew.
 */
export async function loadCore({ cacheDirectory }: CoreLoadOptions): Promise<LoadedCore> {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), MAINLOOP_CORE_FILE);
  const cacheFile = cacheDirectory
    ? path.join(cacheDirectory, `${MAINLOOP_CORE_FILE}.${process.version}-${process.arch}.v8-cache`)
    : undefined;
  const bytes = readFileSync(file);
  // The build writes ASCII only (esbuild escapes the rest), which reads without UTF-8 decoding.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cachedData = cacheFile ? readIfPresent(cacheFile) : undefined;
  // A CommonJS module's wrapper, and `__mainloopImport` for the core's import() of the packages
  // left in node_modules (a script has no import() of its own without a flag; see scripts/build.mjs).
  const wrapped = `(function (exports, require, module, __filename, __dirname, __mainloopImport) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const module = { exports: {} as LoadedCore['core'] };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const importExternal = (specifier: string) => import(specifier);
  run.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file), importExternal);
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  let kept = false;
  return {
    core: module.exports,
    compiledCode: cached ? 'cache' : 'compiled',
    async keepCompiledCode() {
      if (cached || kept || !cacheFile) return;
      kept = true;
      // After start-up, so that the functions start-up ran are compiled in it too.
      const partial = `${cacheFile}.${process.pid}.tmp`;
      try {
        await mkdir(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
        await writeFile(partial, script.createCachedData(), { mode: 0o600 });
        await rename(partial, cacheFile);
        // Caches of earlier builds (or Node versions) are of no more use.
        for (const name of await readdir(path.dirname(cacheFile)))
          if (name.endsWith('.v8-cache') && name !== path.basename(cacheFile))
            await rm(path.join(path.dirname(cacheFile), name), { force: true });
      } catch {
        await rm(partial, { force: true }).catch(() => {}); // a cache is an optimisation only
      }
    },
  };
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}
