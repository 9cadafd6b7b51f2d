/**
 * Loads `core.ts`. From the sources (tests, tsx) this is a plain import; the bundle replaces this
 * module with `core-loader.bundle.ts`, which loads the prebuilt core with V8's code cache.
 */
export interface CoreLoadOptions {
  /** where compiled code may be kept between runs (the data directory's compile-cache) */
  cacheDirectory: string | undefined;
}

export interface LoadedCore {
  core: typeof import('./core.js');
  /** where the core's code came from: V8's code cache, compiled now, or plain modules (sources) */
  compiledCode: 'cache' | 'compiled' | 'modules';
  /** Keeps what was compiled during start-up for the next run, if it is not kept yet. Never throws. */
  keepCompiledCode(): Promise<void>;
}

export async function loadCore(_options: CoreLoadOptions): Promise<LoadedCore> {
  return { core: await import('./core.js'), compiledCode: 'modules', keepCompiledCode: async () => {} };
}
