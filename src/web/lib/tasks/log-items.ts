import type { LogEntry } from '../../../contract/index.js';

/** What the log viewer shows: a line, or a tool call folded together with its results. */
export type LogItem =
  | { type: 'line'; key: number; entry: LogEntry }
  | { type: 'tool'; key: number; call: LogEntry | undefined; results: LogEntry[] };

/**
 * Groups a log for display. A `tool_result` belongs to the oldest call of the current run of
 * calls that has no result yet (agents may call several tools before the first result comes
 * back), else to the latest call; a result with no call before it stands alone.
 */
export function groupLog(entries: readonly LogEntry[]): LogItem[] {
  const items: LogItem[] = [];
  let calls: Array<Extract<LogItem, { type: 'tool' }>> = [];
  for (const entry of entries) {
    if (entry.kind === 'tool') {
      const item = { type: 'tool' as const, key: entry.seq, call: entry, results: [] };
      items.push(item);
      calls.push(item);
    } else if (entry.kind === 'tool_result') {
      const owner = calls.find((call) => call.results.length === 0) ?? calls.at(-1);
      if (owner) owner.results.push(entry);
      else items.push({ type: 'tool', key: entry.seq, call: undefined, results: [entry] });
    } else {
      items.push({ type: 'line', key: entry.seq, entry });
      calls = [];
    }
  }
  return items;
}
