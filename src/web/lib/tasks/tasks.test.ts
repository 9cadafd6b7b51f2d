import { describe, expect, it } from 'vitest';
import type { LogEntry, Question, Task } from '../../../contract/index.js';
import { answerFor, choose, currentAsk, EMPTY_DRAFT, write } from './answers.js';
import { patchLines } from './diff.js';
import { LogBuffer } from './log-buffer.js';
import { groupLog } from './log-items.js';
import { approveLabel, logLiveness, outcomeHasDiff, outcomeOf } from './outcome.js';
import { activeTasks, formatDuration } from './status.js';

const entry = (seq: number, kind: LogEntry['kind'] = 'stdout', text = `line ${seq}`): LogEntry => ({
  seq,
  at: '2025-01-01T00:00:00Z',
  kind,
  text,
});
const seqs = (buffer: LogBuffer) => buffer.entries.map((e) => e.seq);

describe('LogBuffer', () => {
  it('keeps every entry once, in order, whatever arrives twice', () => {
    const buffer = new LogBuffer();
    expect(buffer.add([entry(1), entry(2)])).toBe(2);
    expect(buffer.add([entry(2), entry(3)])).toBe(1); // an event overlapping the page
    expect(buffer.add([entry(1)])).toBe(0);
    expect(seqs(buffer)).toEqual([1, 2, 3]);
    expect(buffer.lastSeq).toBe(3);
  });

  it('holds entries beyond a gap until the page that fills it arrives', () => {
    const buffer = new LogBuffer();
    buffer.add([entry(1)]);
    expect(buffer.add([entry(4), entry(5)])).toBe(0); // an event after a missed one
    expect(buffer.hasGap).toBe(true);
    expect(buffer.lastSeq).toBe(1);
    expect(buffer.add([entry(2), entry(3), entry(4)])).toBe(4); // the page ?after=1
    expect(buffer.hasGap).toBe(false);
    expect(seqs(buffer)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('groupLog', () => {
  it('folds tool results into their calls, in order, even when several calls come first', () => {
    const items = groupLog([
      entry(1, 'agent', 'Looking'),
      entry(2, 'tool', 'Read a.ts'),
      entry(3, 'tool', 'Read b.ts'),
      entry(4, 'tool_result', 'Read: a'),
      entry(5, 'tool_result', 'Read: b'),
      entry(6, 'agent', 'Done'),
      entry(7, 'tool_result', 'orphan'),
    ]);
    expect(
      items.map((item) =>
        item.type === 'line'
          ? item.entry.text
          : `${item.call?.text ?? '?'} → ${item.results.map((result) => result.text).join(', ')}`,
      ),
    ).toEqual(['Looking', 'Read a.ts → Read: a', 'Read b.ts → Read: b', 'Done', '? → orphan']);
    expect(items.map((item) => item.key)).toEqual([1, 2, 3, 6, 7]);
  });

  it('gives a later result to the latest call when every call has one', () => {
    const items = groupLog([entry(1, 'tool', 'Bash'), entry(2, 'tool_result', 'a'), entry(3, 'tool_result', 'b')]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'tool', results: [{ text: 'a' }, { text: 'b' }] });
  });
});

describe('patchLines', () => {
  it('tells headers, hunks, additions, removals and context apart', () => {
    const patch = [
      'diff --git a/x.txt b/x.txt',
      'index 1..2 100644',
      '--- a/x.txt',
      '+++ b/x.txt',
      '@@ -1,2 +1,2 @@',
      ' same',
      '-old',
      '--- a removed line that looks like a header',
      '+new',
      '\\ No newline at end of file',
      '',
    ].join('\n');
    expect(patchLines(patch).map((line) => line.kind)).toEqual([
      'meta',
      'meta',
      'meta',
      'meta',
      'hunk',
      'context',
      'del',
      'del',
      'add',
      'meta',
    ]);
    expect(patchLines('')).toEqual([]);
  });
});

describe('answers', () => {
  const single = { multiSelect: false, options: [{ label: 'red' }, { label: 'blue' }] };
  const multi = { multiSelect: true, options: [{ label: 'S' }, { label: 'M' }, { label: 'L' }] };

  it('a single choice: the option pressed, or the own words instead', () => {
    let draft = choose(EMPTY_DRAFT, 'red', false);
    draft = choose(draft, 'blue', false);
    expect(answerFor(single, draft)).toBe('blue');
    draft = write(draft, '  green  ', false);
    expect(draft.selected).toEqual([]);
    expect(answerFor(single, draft)).toBe('green');
    expect(answerFor(single, choose(draft, 'red', false))).toBe('red');
    expect(answerFor(single, EMPTY_DRAFT)).toBeUndefined();
    expect(answerFor(single, write(EMPTY_DRAFT, '   ', false))).toBeUndefined();
  });

  it('a multi-select: options toggled, in the question’s order, then the own words', () => {
    let draft = choose(EMPTY_DRAFT, 'L', true);
    draft = choose(draft, 'S', true);
    draft = choose(draft, 'M', true);
    draft = choose(draft, 'M', true);
    expect(answerFor(multi, draft)).toEqual(['S', 'L']);
    expect(answerFor(multi, write(draft, 'XL', true))).toEqual(['S', 'L', 'XL']);
    expect(answerFor(multi, EMPTY_DRAFT)).toBeUndefined();
  });

  it('walks the oldest ask that still has open questions, in the order they were asked', () => {
    const question = (id: string, askId: string, createdAt: string, status: Question['status'] = 'open') =>
      ({ id, askId, createdAt, status, taskId: 't', text: id, options: [], multiSelect: false }) as Question;
    const ask = currentAsk([
      question('q3', 'b', '2025-01-02'),
      question('z-first', 'a', '2025-01-01'),
      question('q1', 'a', '2025-01-01', 'answered'),
      question('a-second', 'a', '2025-01-01'),
    ]);
    expect(ask.map((q) => q.id)).toEqual(['z-first', 'a-second']);
    expect(currentAsk([])).toEqual([]);
  });
});

describe('activeTasks', () => {
  const task = (id: string, status: Task['status'], createdAt: string, needsInput = false) =>
    ({ id, status, createdAt, needsInput }) as Task;

  it('lists unfinished tasks, those waiting for the person first, then newest first', () => {
    const list = activeTasks([
      task('old', 'implementing', '2025-01-01'),
      task('done', 'completed', '2025-01-05'),
      task('new', 'planning', '2025-01-04'),
      task('asks', 'implementing', '2025-01-02', true),
      task('gone', 'cancelled', '2025-01-06'),
      task('broke', 'failed', '2025-01-03'),
    ]);
    expect(list.map((t) => t.id)).toEqual(['broke', 'asks', 'new', 'old']);
  });
});

describe('formatDuration', () => {
  it('reads at a glance', () => {
    expect(formatDuration(44_600)).toBe('45s');
    expect(formatDuration(252_000)).toBe('4m 12s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(3_900_000)).toBe('1h 5m');
    expect(formatDuration(-5)).toBe('0s');
  });
});

describe('what a review and its outcome say', () => {
  const review = (files: number): Task['review'] => ({
    files: Array.from({ length: files }, (_, index) => ({ path: `f${index}`, additions: 1, deletions: 0 })),
    additions: files,
    deletions: 0,
    checks: null,
    durationMs: 1,
    commit: 'c0ffee',
  });
  const merge = { commit: 'abc', onto: 'def', into: 'main', files: [], additions: 0, deletions: 0, at: '2025-01-01' };
  const task = (changes: Partial<Task>) => ({ status: 'completed', projectId: 'p', ...changes }) as Task;

  it('offers a merge only when there is something to merge', () => {
    expect(approveLabel({ projectId: 'p', review: review(2) })).toBe('Approve and merge');
    expect(approveLabel({ projectId: 'p', review: review(0) })).toBe('Complete without merging');
    expect(approveLabel({ projectId: null, review: review(2) })).toBe('Approve');
  });

  it('tells a merge from work that changed nothing or stays in its workspace', () => {
    expect(outcomeOf(task({ review: review(1), merge }))).toEqual({ kind: 'merged', merge });
    expect(outcomeOf(task({ review: review(0) }))).toEqual({ kind: 'unchanged' });
    expect(outcomeOf(task({ review: review(1), projectId: null }))).toEqual({ kind: 'kept' });
    expect(outcomeOf(task({ review: review(1) }))).toEqual({ kind: 'completed' });
    expect(outcomeOf(task({ status: 'awaiting_review', review: review(1) }))).toBeUndefined();
    expect(outcomeOf(task({}))).toBeUndefined();
    expect(outcomeHasDiff({ kind: 'merged', merge })).toBe(true);
    expect(outcomeHasDiff({ kind: 'unchanged' })).toBe(false);
  });

  it('calls the log live only while the task works and the event stream is up', () => {
    expect(logLiveness(true, 'live')).toBe('live');
    expect(logLiveness(true, 'reconnecting')).toBe('reconnecting…');
    expect(logLiveness(true, 'offline')).toBe('offline: not updating');
    expect(logLiveness(false, 'live')).toBeUndefined();
  });
});
