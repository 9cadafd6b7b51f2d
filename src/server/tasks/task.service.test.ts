import { describe, expect, it } from 'vitest';
import type { Task } from '../../contract/tasks.js';
import { attentionNote } from './task.service.js';

const task = (changes: Partial<Task> = {}): Task => ({
  id: 'task-1',
  number: 12,
  title: 'Ship it',
  prompt: 'p',
  projectId: null,
  runtime: 'claude-code',
  skipPlan: false,
  status: 'implementing',
  needsInput: false,
  attempt: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...changes,
});

describe('attentionNote', () => {
  it('says what happened, by the task’s number, when a task fails, is ready for review, has a plan or a new question', () => {
    expect(attentionNote(task(), task({ status: 'failed', error: 'exit 1' }))).toBe(
      'Task #12 “Ship it” failed: exit 1',
    );
    expect(attentionNote(task(), task({ status: 'failed' }))).toBe('Task #12 “Ship it” failed');
    expect(attentionNote(task(), task({ status: 'awaiting_review' }))).toBe('Task #12 “Ship it”: ready for review');
    expect(attentionNote(task({ status: 'planning' }), task({ status: 'awaiting_plan_approval' }))).toBe(
      'Task #12 “Ship it”: plan ready for approval',
    );
    expect(attentionNote(task(), task({ needsInput: true }))).toBe('Task #12 “Ship it”: asked a question');
  });

  it('stays quiet otherwise: progress, completion, cancellation, a question still open', () => {
    expect(attentionNote(task({ status: 'queued' }), task({ status: 'planning' }))).toBeUndefined();
    expect(attentionNote(task(), task({ status: 'completed' }))).toBeUndefined();
    expect(attentionNote(task(), task({ status: 'cancelled' }))).toBeUndefined();
    expect(attentionNote(task({ needsInput: true }), task({ needsInput: true }))).toBeUndefined();
    expect(attentionNote(task({ status: 'failed' }), task({ status: 'failed', error: 'again' }))).toBeUndefined();
  });
});
