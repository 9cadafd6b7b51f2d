import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { openDatabase, type Database } from '../db/database.js';
import { UserRepository } from '../auth/index.js';
import { EventRepository, EventService } from '../events/index.js';
import { SystemClock } from '../lib/clock.js';
import { IdGenerator } from '../lib/ids.js';
import { IdleTaskRunner, TaskRepository, TaskService } from '../tasks/index.js';
import {
  ContextAssembler,
  estimateTokens,
  fitHistory,
  PAST_TOOL_RESULT_CHARS,
  toModelMessages,
} from './context-assembler.js';
import { MessageRepository, type ContextMessage, type ToolStep } from './message.repository.js';
import { ProposalRepository } from './proposal.repository.js';

const at = new Date('2026-01-01T00:00:00Z');
const message = (
  id: number,
  role: ContextMessage['role'],
  content: string,
  taskId: string | null = null,
): ContextMessage => ({
  id: String(id),
  role,
  content,
  taskId,
  createdAt: at,
});

describe('toModelMessages', () => {
  it('marks event notes, joins consecutive user-side messages, skips empty replies and starts with the person', () => {
    expect(
      toModelMessages([
        message(1, 'assistant', 'a reply whose question fell out of the window'),
        message(2, 'user', 'first'),
        message(3, 'assistant', ''),
        message(4, 'event', 'Task “X” failed.', 'task-9'),
        message(5, 'user', 'what happened?'),
        message(6, 'assistant', 'It failed.'),
        message(7, 'event', 'a note without a task'),
        message(8, 'user', 'retry it'),
      ]),
    ).toEqual([
      { role: 'user', content: 'first\n\n[event · task task-9] Task “X” failed.\n\nwhat happened?' },
      { role: 'assistant', content: 'It failed.' },
      { role: 'user', content: '[event] a note without a task\n\nretry it' },
    ]);
  });
});

describe('a reply’s tool calls in the context', () => {
  const spawn: ToolStep = {
    at: 'On it.'.length,
    calls: [{ id: 'toolu_1', name: 'spawn_task', input: { title: 'Fix login', prompt: 'Safari.' } }],
    results: [{ callId: 'toolu_1', name: 'spawn_task', content: '{"proposalId":"p1","status":"pending"}' }],
  };

  it('reach the model as the calls it made and their results, with the text around them, never as prose', () => {
    const reply = {
      ...message(2, 'assistant', 'On it.\n\nProposed: confirm the card.'),
      toolSteps: [spawn],
    };
    expect(toModelMessages([message(1, 'user', 'Fix the login'), reply, message(3, 'user', 'thanks')])).toEqual([
      { role: 'user', content: 'Fix the login' },
      { role: 'assistant', content: 'On it.', toolCalls: spawn.calls },
      { role: 'tool', results: spawn.results },
      { role: 'assistant', content: 'Proposed: confirm the card.' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('keep calls made without a word, several requests’ calls in order, and a reply that was only a call', () => {
    const list: ToolStep = {
      at: 0,
      calls: [{ id: 'call_list', name: 'list_tasks', input: {} }],
      results: [{ callId: 'call_list', name: 'list_tasks', content: '{"tasks":[]}' }],
    };
    const refused: ToolStep = {
      at: 'No tasks yet.'.length,
      calls: [{ id: 'call_get', name: 'get_task', input: { taskId: 'x' } }],
      results: [{ callId: 'call_get', name: 'get_task', content: 'no task with id x', isError: true }],
    };
    expect(
      toModelMessages([
        message(1, 'user', 'what runs?'),
        { ...message(2, 'assistant', 'No tasks yet.'), toolSteps: [list, refused] },
        message(3, 'user', 'ok'),
        { ...message(4, 'assistant', ''), toolSteps: [list] },
        message(5, 'event', 'Task “X” failed.', 'task-9'),
      ]),
    ).toEqual([
      { role: 'user', content: 'what runs?' },
      { role: 'assistant', content: '', toolCalls: list.calls },
      { role: 'tool', results: list.results },
      { role: 'assistant', content: 'No tasks yet.', toolCalls: refused.calls },
      { role: 'tool', results: refused.results },
      { role: 'user', content: 'ok' },
      { role: 'assistant', content: '', toolCalls: list.calls },
      { role: 'tool', results: list.results },
      { role: 'user', content: '[event · task task-9] Task “X” failed.' },
    ]);
  });

  it('count towards the budget, an earlier turn’s long results cut to what the model can ask for again', () => {
    const long = 'x'.repeat(PAST_TOOL_RESULT_CHARS * 5);
    const recall: ToolStep = {
      at: 0,
      calls: [{ id: 'toolu_recall', name: 'recall', input: { query: 'deploy' } }],
      results: [{ callId: 'toolu_recall', name: 'recall', content: long }],
    };
    const reply = { ...message(2, 'assistant', 'Found it.'), toolSteps: [recall] };
    const newestFirst = [message(3, 'user', 'and?'), reply, message(1, 'user', 'find the deploy notes')];
    // the cut result fits a budget the whole one would not
    expect(fitHistory(newestFirst, estimateTokens(long) / 2).map((kept) => kept.id)).toEqual(['1', '2', '3']);
    // but what is shown is still counted: a budget below it leaves the reply out
    expect(fitHistory(newestFirst, 100).map((kept) => kept.id)).toEqual(['3']);
    const [, , results] = toModelMessages(fitHistory(newestFirst, 10_000));
    expect(results).toMatchObject({ role: 'tool' });
    const shown = results!.role === 'tool' ? results!.results[0]!.content : '';
    expect(shown.length).toBeLessThan(PAST_TOOL_RESULT_CHARS + 100);
    expect(shown).toContain('call the tool again');
  });
});

describe('fitHistory', () => {
  const newestFirst = [
    message(3, 'user', 'c'.repeat(400)),
    message(2, 'assistant', 'b'.repeat(400)),
    message(1, 'user', 'a'.repeat(400)),
  ];

  it('keeps the newest messages that fit the budget, oldest first', () => {
    expect(fitHistory(newestFirst, 300).map((kept) => kept.id)).toEqual(['2', '3']);
    expect(fitHistory(newestFirst, 10_000).map((kept) => kept.id)).toEqual(['1', '2', '3']);
  });

  it('always keeps the person’s message, cut to the budget when it alone is too long', () => {
    const [only] = fitHistory(newestFirst, 50);
    expect(only!.id).toBe('3');
    expect(estimateTokens(only!.content)).toBeLessThanOrEqual(60);
    expect(only!.content).toContain('[… cut to fit]');
  });
});

describe('ContextAssembler', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const messages = new MessageRepository();
  let assembler: ContextAssembler;
  let tasks: TaskService;

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    database = openDatabase(testDatabase.url);
    const db = database.db;
    await new UserRepository().insert(db, { id: 'ada', username: 'ada', isOwner: true });
    await new UserRepository().insert(db, { id: 'bob', username: 'bob', isOwner: false });
    const clock = new SystemClock();
    const events = new EventService({ db, repository: new EventRepository(), clock, retentionDays: 30 });
    tasks = new TaskService({
      db,
      tasks: new TaskRepository(),
      events,
      runner: new IdleTaskRunner(),
      reporter: { postEvent: async () => undefined },
      clock,
      ids: new IdGenerator(),
      logger: pino({ level: 'silent' }),
    });
    assembler = new ContextAssembler({
      db,
      messages,
      proposals: new ProposalRepository(),
      tasks,
      questions: { listOpen: async () => [] },
      projects: { describe: async () => undefined },
      clock,
      budget: { tokens: 2_000, maxMessages: 6 },
    });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  async function exchange(userId: string, question: string, answer: string, toolSteps?: ToolStep[]) {
    const { message: user, reply } = (await messages.insertUserWithReply(database.db, {
      userId,
      clientId: `${userId}-${question}`,
      content: question,
      turnIdPrefix: 'turn-',
    }))!;
    await messages.finish(database.db, {
      id: reply.id,
      turnId: `turn-${user.id}`,
      status: 'complete',
      content: answer,
      usage: null,
      error: null,
      toolSteps,
    });
    return { user, reply };
  }

  it('reads the recent conversation up to the person’s message — theirs only, bounded, without the reply being written — and the open tasks', async () => {
    for (let index = 1; index <= 10; index++) await exchange('ada', `question ${index}`, `answer ${index}`);
    await exchange('bob', 'bob’s secret', 'bob’s answer');
    const failed = await exchange('ada', 'question 11', 'half an answer');
    await database.db
      .updateTable('messages')
      .set({ status: 'error' })
      .where('id', '=', failed.reply.id as never)
      .execute();
    const { message: current, reply } = (await messages.insertUserWithReply(database.db, {
      userId: 'ada',
      clientId: 'now',
      content: 'what now?',
      turnIdPrefix: 'turn-',
    }))!;
    await messages.insertUserWithReply(database.db, {
      userId: 'ada',
      clientId: 'later',
      content: 'a message after this one',
      turnIdPrefix: 'turn-',
    });
    const task = await tasks.create('ada', { title: 'Write the changelog', prompt: 'For 0.2.' });

    const context = await assembler.assemble({ userId: 'ada', userMessageId: current.id, replyId: reply.id });

    expect(context.messages).toEqual([
      { role: 'user', content: 'question 9' },
      { role: 'assistant', content: 'answer 9' },
      { role: 'user', content: 'question 10' },
      { role: 'assistant', content: 'answer 10' },
      { role: 'user', content: 'question 11\n\nwhat now?' },
    ]);
    expect(context.historyCount).toBe(6);
    expect(context.system).toContain('You are mainloop');
    expect(context.system).toContain('spawn_task proposes a task');
    expect(context.system).toContain(`- ${task.id} · queued · Write the changelog`);
    expect(JSON.stringify(context)).not.toContain('bob’s');
  });

  it('reads a new turn’s context while its message is being stored: composed with the message, it is what a read after the commit gives', async () => {
    await new UserRepository().insert(database.db, { id: 'cy', username: 'cy', isOwner: false });
    for (let index = 1; index <= 4; index++) await exchange('cy', `step ${index}`, `done ${index}`);

    const reads = await assembler.read('cy');
    const { message, reply } = (await messages.insertUserWithReply(database.db, {
      userId: 'cy',
      clientId: 'cy-next',
      content: 'and next?',
      turnIdPrefix: 'turn-',
    }))!;
    const later = await messages.insertEvent(database.db, { userId: 'cy', content: 'stored just after', taskId: null });

    const ahead = assembler.compose(reads, message);
    const after = await assembler.assemble({ userId: 'cy', userMessageId: message.id, replyId: reply.id });
    expect(ahead).toEqual({ ...after, system: expect.any(String) });
    expect(ahead.historyCount).toBe(6);
    expect(ahead.messages.at(-1)).toEqual({ role: 'user', content: 'and next?' });
    // one stored just after the message, read along with the history, is left to the next turn
    const raced = assembler.compose({ ...reads, history: [later, ...reads.history] }, message);
    expect(raced).toEqual({ ...ahead, system: expect.any(String) });
  });

  it('reads back the tool calls a reply made, as calls and results', async () => {
    await new UserRepository().insert(database.db, { id: 'dee', username: 'dee', isOwner: false });
    const step: ToolStep = {
      at: 'Proposed.'.length,
      calls: [{ id: 'toolu_db', name: 'spawn_task', input: { title: 'Ship it', prompt: 'Now.' } }],
      results: [{ callId: 'toolu_db', name: 'spawn_task', content: '{"proposalId":"p9"}' }],
    };
    await exchange('dee', 'ship it', 'Proposed. Confirm the card.', [step]);
    const { message: current, reply } = (await messages.insertUserWithReply(database.db, {
      userId: 'dee',
      clientId: 'dee-now',
      content: 'did it start?',
      turnIdPrefix: 'turn-',
    }))!;

    const context = await assembler.assemble({ userId: 'dee', userMessageId: current.id, replyId: reply.id });

    expect(context.messages).toEqual([
      { role: 'user', content: 'ship it' },
      { role: 'assistant', content: 'Proposed.', toolCalls: step.calls },
      { role: 'tool', results: step.results },
      { role: 'assistant', content: 'Confirm the card.' },
      { role: 'user', content: 'did it start?' },
    ]);
    expect(context.system).toContain('never write a tool call or its result as text');
  });
});
