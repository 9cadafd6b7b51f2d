import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig, type Plugin, type ResolvedConfig } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));
const webRoot = path.join(repoRoot, 'src/web');

/**
 * The web app: a Svelte 5 SPA built to dist/web, which the server serves at `/` (with an
 * index.html fallback for every non-/api path). `vite dev` proxies /api to a server on :3000.
 */
export default defineConfig({
  root: webRoot,
  publicDir: path.join(webRoot, 'public'),
  resolve: {
    alias: { $contract: path.join(repoRoot, 'src/contract/index.ts') },
  },
  plugins: [tailwindcss(), svelte(), serviceWorker()],
  build: {
    outDir: path.join(repoRoot, 'dist/web'),
    emptyOutDir: true,
    // Phones first: keep the bundle small and say so when it is not.
    chunkSizeWarningLimit: 150,
    rolldownOptions: {
      treeshake: {
        // The contract's zod schemas are pure definitions: the web app imports a few of its
        // constants (THEMES) and types, and must not carry zod itself for that.
        manualPureFunctions: ['z'],
        moduleSideEffects: [{ test: /[\\/]src[\\/]contract[\\/]/, sideEffects: false }],
      },
    },
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:3000', changeOrigin: false } },
  },
});

/**
 * Writes dist/web/sw.js from src/web/sw/service-worker.js with the list of built files to
 * precache and a version derived from their contents (a new build, a new cache).
 */
function serviceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'mainloop-service-worker',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    async writeBundle(options, bundle) {
      const outDir = options.dir ?? config.build.outDir;
      const files = new Map<string, string | Uint8Array>();
      for (const [fileName, output] of Object.entries(bundle)) {
        files.set(fileName, output.type === 'chunk' ? output.code : output.source);
      }
      for (const fileName of await listFiles(config.publicDir)) {
        files.set(fileName, await readFile(path.join(config.publicDir, fileName)));
      }
      const precache = [...files.keys()]
        .filter((fileName) => !fileName.endsWith('.map') && !fileName.startsWith('.vite/') && fileName !== 'sw.js')
        .sort();
      const hash = createHash('sha256');
      for (const fileName of precache) hash.update(fileName).update('\0').update(files.get(fileName)!);
      const template = await readFile(path.join(webRoot, 'sw/service-worker.js'), 'utf8');
      const source = serviceWorkerSource(
        template,
        hash.digest('hex').slice(0, 16),
        precache.map((fileName) => `/${fileName}`),
      );
      await writeFile(path.join(outDir, 'sw.js'), source);
    },
  };
}

/**
 * src/web/sw/service-worker.js with its version and precache list filled in; a placeholder the
 * template lost fails the build (tested in test/build/build-transforms.test.ts).
 */
export function serviceWorkerSource(template: string, version: string, precache: string[]): string {
  const placeholders: Array<[string, string]> = [
    ['const VERSION = __VERSION__;', `const VERSION = ${JSON.stringify(version)};`],
    ['const PRECACHE = __PRECACHE__;', `const PRECACHE = ${JSON.stringify(precache)};`],
  ];
  let result = template;
  for (const [placeholder, value] of placeholders) {
    if (!result.includes(placeholder)) throw new Error(`service-worker.js lost its placeholder: ${placeholder}`);
    result = result.replace(placeholder, () => value);
  }
  return result;
}

async function listFiles(directory: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(directory, prefix), { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(directory, relative)));
    else files.push(relative);
  }
  return files;
}
