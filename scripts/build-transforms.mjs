// What the server build (scripts/build.mjs) changes in the code it bundles, and the checks that
// keep those changes honest. Each fails the build, naming the file, when the code it was written
// for is not what it finds: a change that silently does nothing ships a bundle that breaks later,
// at run time, on someone else's machine. Each is tested in test/build/build-transforms.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Comments and whitespace at the start of a file. */
const LEADING = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*/;

/**
 * A bundled CommonJS module that reads files shipped in its own package does so through __dirname
 * and __filename, which ESM lacks. Each such module gets them back, pointing at where it is
 * installed: the path from the bundle (`serverDir`, where every output file is) to it is fixed, so
 * the bundle stays movable with its checkout. The declaration goes after a 'use strict' directive,
 * which must stay first; a module that starts with anything else that must stay first (another
 * directive, a hashbang) fails the build rather than losing its strict mode.
 *
 * Written against (esbuild 0.28) the modules that needed it then: @fastify/swagger-ui 6.1
 * (index.js, lib/routes.js: its assets), @fastify/swagger 9.9 and @dbos-inc/dbos-sdk 5.3 (their
 * package.json), pino 10.4 and thread-stream 4.2 (their worker files), all starting with
 * 'use strict'.
 *
 * The same plugin refuses a bundled package that uses `import.meta`: in the bundle it would be
 * the bundle's file (the core's `define`, main.js's chunks), not the package's.
 */
export function ownDirectory(serverDir) {
  return {
    name: 'own-directory',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/].*\.[cm]?js$/ }, (args) => {
        const contents = withOwnDirectory(readFileSync(args.path, 'utf8'), args.path, serverDir);
        return contents === undefined ? undefined : { contents, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** `source` (of `file`, in node_modules) with __dirname and __filename declared; undefined when it needs neither. */
export function withOwnDirectory(source, file, serverDir) {
  const meta = /\bimport\.meta\b/.exec(source);
  if (meta) {
    throw new Error(
      `${file} uses import.meta (line ${lineOf(source, meta.index)}), which in the bundle is the bundle's file, not the package's: add the package to SERVER_EXTERNALS`,
    );
  }
  if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
  const leading = LEADING.exec(source)[0];
  const directive = /^(['"])use strict\1;?/.exec(source.slice(leading.length))?.[0];
  const prologue = directive === undefined ? '' : leading + directive;
  const first = source.slice(prologue.length).replace(LEADING, '');
  if (/^(['"]|#!)/.test(first)) {
    throw new Error(
      `ownDirectory cannot place __dirname and __filename in ${file}: it starts with ${JSON.stringify(first.slice(0, 40))}, not with 'use strict' or code (scripts/build-transforms.mjs)`,
    );
  }
  const relative = (target) => JSON.stringify(path.relative(serverDir, target).split(path.sep).join('/'));
  const declaration =
    `var __dirname = __mainloopJoin(__mainloopBundleDir, ${relative(path.dirname(file))}), ` +
    `__filename = __mainloopJoin(__mainloopBundleDir, ${relative(file)});`;
  return `${prologue};${declaration}${source.slice(prologue.length)}`;
}

/**
 * The core runs as a script (for V8's code cache), and a script's `import()` needs a hook from its
 * host: `core-loader.bundle.ts` passes `__mainloopImport`, an `import()` of main.js's. Our modules'
 * imports of the packages left in node_modules (`externals`, the only ones esbuild keeps as
 * `import()`) call it. An import() of one of them written in a form this does not rewrite (a
 * template string, a subpath, options) fails the build, as does any import() left in the core
 * (assertNoImportCall).
 *
 * Written against esbuild 0.28, which keeps `import('x')` of an external as is in CommonJS output,
 * and Node 20, whose vm.Script has no import() without a flag.
 */
export function externalImportsThroughHost(externals) {
  return {
    name: 'external-imports-through-host',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]server[\\/].*\.ts$/ }, (args) => {
        const contents = withImportsThroughHost(readFileSync(args.path, 'utf8'), args.path, externals);
        return contents === undefined ? undefined : { contents, loader: 'ts' };
      });
    },
  };
}

/** `source` with its import() of `externals` going through `__mainloopImport`; undefined when it has none. */
export function withImportsThroughHost(source, file, externals) {
  const names = externals
    .filter((name) => !name.includes('*'))
    .map((name) => name.replace(/[/.-]/g, '\\$&'))
    .join('|');
  const rewritable = new RegExp(`(?<!typeof\\s*)\\bimport\\s*\\(\\s*(['"])(${names})\\1\\s*\\)`, 'g');
  const rewritten = source.replace(rewritable, '__mainloopImport($1$2$1)');
  const left = new RegExp(`(?<!typeof\\s*)\\bimport\\s*\\(\\s*[\`'"](${names})[/\`'"]`).exec(rewritten);
  if (left) {
    throw new Error(
      `${file} imports ${left[1]} (line ${lineOf(rewritten, left.index)}) in a form externalImportsThroughHost does not rewrite: write it as import('${left[1]}')`,
    );
  }
  return rewritten === source ? undefined : rewritten;
}

/**
 * The core must not call import() itself (see externalImportsThroughHost): on Node 20 that call
 * would fail at run time, at first use, with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING. Any
 * `import(`, whatever its argument, fails the build; written against esbuild 0.28, whose CommonJS
 * output turns import() of bundled modules into require() calls.
 */
export function assertNoImportCall(code, file) {
  const call = /(?<![\w$.])import\s*\(/.exec(code);
  if (call) {
    throw new Error(
      `${file} still calls import() (at ${JSON.stringify(code.slice(call.index, call.index + 60))}): see externalImportsThroughHost in scripts/build-transforms.mjs`,
    );
  }
}

/**
 * In the bundle, server.ts loads the prebuilt core through core-loader.bundle.ts instead of
 * core-loader.ts (which imports core.ts, and would put the whole core into main.js's chunks,
 * compiled at every start instead of from the code cache). A build in which nothing imported
 * `./core-loader.js` fails.
 */
export function bundledCoreLoader() {
  return {
    name: 'bundled-core-loader',
    setup(build) {
      let replaced = false;
      build.onStart(() => {
        replaced = false;
      });
      build.onResolve({ filter: /^\.\/core-loader\.js$/ }, (args) => {
        replaced = true;
        return { path: path.join(path.dirname(args.importer), 'core-loader.bundle.ts') };
      });
      build.onEnd((result) => {
        if (!replaced && result.errors.length === 0) {
          throw new Error(
            "bundledCoreLoader replaced nothing: no module imports './core-loader.js' (scripts/build-transforms.mjs)",
          );
        }
      });
    },
  };
}

function lineOf(source, index) {
  return source.slice(0, index).split('\n').length;
}
