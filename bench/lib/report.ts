import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './result.js';

/** One table for any number of results: name, value, floor, ratio, target, PASS/MISS. */
export function formatResults(results: BenchResult[]): string {
  const rows = [
    ['benchmark', 'value', 'floor', 'ratio', 'target', ''],
    ...results.map((result) => [
      result.name,
      formatNumber(result.value),
      formatNumber(result.floor),
      `${result.ratio.toFixed(2)}×`,
      result.target,
      result.pass ? 'PASS' : 'MISS',
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 || column === 4 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  return [line(rows[0]!), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);
}

/** `npx tsx bench/x.bench.ts`: run that benchmark alone and print its table. */
export async function runIfMain(moduleUrl: string, run: () => Promise<BenchResult[]>): Promise<void> {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  const results = await run();
  process.stdout.write(`\n${formatResults(results)}\n`);
  process.exitCode = results.every((result) => result.pass) ? 0 : 1;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
