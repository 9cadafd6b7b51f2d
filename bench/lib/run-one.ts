/**
 * Runs one benchmark file's `run()` in a process of its own and writes its results as JSON to
 * the file named by the second argument (used by bench/run.ts, so that benchmarks never share
 * a process: DBOS is a process-wide singleton, and a leftover timer must not skew the next one).
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { BenchResult } from './result.js';

const [file, output] = process.argv.slice(2);
if (!file || !output) throw new Error('usage: run-one.ts <bench file> <results.json>');
const module = (await import(pathToFileURL(file).href)) as { run?: () => Promise<BenchResult[]> };
if (typeof module.run !== 'function') throw new Error(`${file} does not export run(): Promise<BenchResult[]>`);
const results = await module.run();
await writeFile(output, JSON.stringify(results));
// Whatever a benchmark left open (pools, timers) must not keep this process alive.
process.exit(0);
