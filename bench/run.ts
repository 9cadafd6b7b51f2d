/**
 * `npm run bench`: runs every `bench/*.bench.ts` (each exports `run(): Promise<BenchResult[]>`),
 * each in a process of its own, prints one table (value, floor measured in the same run, ratio,
 * target, PASS/MISS) and writes it all to bench/results/latest.json.
 *
 *   npm run bench                 every benchmark
 *   npm run bench -- startup http only the files whose name contains one of these words
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatResults } from './lib/report.js';
import type { BenchResult } from './lib/result.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = path.join(BENCH_DIR, 'results', 'latest.json');

const filters = process.argv.slice(2);
const files = (await readdir(BENCH_DIR))
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => !filters.length || filters.some((filter) => name.includes(filter)))
  .sort();
if (!files.length) throw new Error(`no benchmark matches ${filters.join(', ')}`);

const startedAt = new Date();
const results: BenchResult[] = [];
const failures: Array<{ file: string; error: string }> = [];
const scratch = await mkdtemp(path.join(os.tmpdir(), 'mainloop-bench-'));
try {
  for (const name of files) {
    process.stderr.write(`\n▶ ${name}\n`);
    const output = path.join(scratch, `${name}.json`);
    const code = await runFile(path.join(BENCH_DIR, name), output);
    try {
      if (code !== 0) throw new Error(`exited with code ${code}`);
      results.push(...(JSON.parse(await readFile(output, 'utf8')) as BenchResult[]));
    } catch (error) {
      failures.push({ file: name, error: error instanceof Error ? error.message : String(error) });
    }
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

process.stdout.write(`\n${formatResults(results)}\n`);
for (const failure of failures) process.stdout.write(`FAILED ${failure.file}: ${failure.error}\n`);

await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
await writeFile(
  RESULTS_FILE,
  `${JSON.stringify(
    {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        node: process.version,
        platform: `${os.platform()}-${os.arch()}`,
        cpus: os.cpus().length,
        loadAverage: os.loadavg(),
      },
      files,
      results,
      failures,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`results: ${path.relative(process.cwd(), RESULTS_FILE)}\n`);
process.exitCode = failures.length || results.some((result) => !result.pass) ? 1 : 0;

function runFile(file: string, output: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(BENCH_DIR, 'lib', 'run-one.ts'), file, output],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}
