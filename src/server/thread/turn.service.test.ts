import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Db } from '../db/database.js';
import type { ModelClient, ModelRequest, ModelStreamEvent } from '../models/index.js';
import type { AssembledContext, ContextReads } from './context-assembler.js';
import type { MessageRecord } from './message.repository.js';
import { TurnService, type TurnServiceDeps } from './turn.service.js';

/** A model that answers "Hello" at once, or (`hold`) only fails once its request is aborted. */
class ScriptedModel implements ModelClient {
  readonly provider = 'anthropic' as const;
  readonly defaultModel = 'scripted';
  readonly requests: ModelRequest[] = [];
  constructor(private readonly hold = false) {}

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
    this.requests.push(request);
    if (this.hold) {
      await new Promise((_, reject) => {
        const signal = request.abortSignal;
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason));
      });
    }
    yield { type: 'text-delta', text: 'Hello' };
    yield { type: 'finish', stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 1 }, model: 'scripted' };
  }
}

const reads: ContextReads = { history: [], openTasks: [], pending: [], openQuestions: [], projects: undefined };
const message = {
  id: '7',
  role: 'user',
  content: 'Hi there',
  taskId: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
} satisfies Partial<MessageRecord>;
const turn = { userId: 'ada', userMessageId: '7', replyId: '8', turnId: 'turn-7' };

function setUp(model: ScriptedModel) {
  const publish = vi.fn(async () => ({}));
  const setContent = vi.fn(async () => undefined);
  const compose = vi.fn((_: ContextReads, newest?: { content: string }): AssembledContext => ({
    system: 'You are mainloop.',
    messages: [{ role: 'user', content: newest!.content }],
    historyCount: 1,
    estimatedTokens: 10,
  }));
  const deps = {
    db: {} as Db,
    messages: { setContent },
    events: { append: vi.fn(), publish },
    assembler: {
      assemble: () => Promise.reject(new Error('the context was read ahead: nothing to assemble')),
      read: () => Promise.resolve(reads),
      compose,
    },
    model,
    tools: { definitions: [], run: vi.fn() },
    logger: pino({ level: 'silent' }),
  } as unknown as TurnServiceDeps;
  return { turns: new TurnService(deps), publish, setContent };
}

const takeOver = (turns: TurnService) => turns.requestModel({ ...turn, step: 1, priorContent: '', toolSteps: [] });

describe('a first model request begun while its reply is being stored', () => {
  it('goes out with the context read ahead and the person’s message, and publishes its first delta only once the reply has committed', async () => {
    const model = new ScriptedModel();
    const { turns, publish, setContent } = setUp(model);
    let committed!: (stored: boolean) => void;
    const stored = new Promise<boolean>((resolve) => (committed = resolve));

    turns.beginFirstRequest(turn, { reads: Promise.resolve(reads), newest: message }, stored);
    await vi.waitFor(() => expect(model.requests).toHaveLength(1));
    expect(model.requests[0]!.messages).toEqual([{ role: 'user', content: 'Hi there' }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(publish).not.toHaveBeenCalled();

    committed(true);
    const result = await takeOver(turns);

    expect(result).toMatchObject({ outcome: 'answered', text: 'Hello' });
    expect(publish).toHaveBeenCalledWith('ada', 'message.delta', { messageId: '8', text: 'Hello' });
    expect(setContent).toHaveBeenCalledWith({}, { id: '8', turnId: 'turn-7', content: 'Hello' });
  });

  it('is aborted, and publishes and writes nothing, when the reply’s transaction does not commit', async () => {
    const model = new ScriptedModel(true);
    const { turns, publish, setContent } = setUp(model);

    let committed!: (stored: boolean) => void;
    const stored = new Promise<boolean>((resolve) => (committed = resolve));

    turns.beginFirstRequest(turn, { reads: Promise.resolve(reads), newest: message }, stored);
    await vi.waitFor(() => expect(model.requests).toHaveLength(1));
    committed(false);
    const result = await takeOver(turns);

    expect(result).toEqual({ outcome: 'superseded' });
    expect(publish).not.toHaveBeenCalled();
    expect(setContent).not.toHaveBeenCalled();
  });
});
