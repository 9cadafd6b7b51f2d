import type { Task } from '../../contract/tasks.js';
import type { Proposal } from '../../contract/proposals.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { ModelMessage } from '../models/index.js';
import type { ProjectService } from '../projects/index.js';
import type { TaskService } from '../tasks/index.js';
import type { OpenQuestion, WorkerService } from '../workers/index.js';
import type { HistoryMessage, MessageRepository, ToolStep } from './message.repository.js';
import type { ProposalRepository } from './proposal.repository.js';

export interface ContextBudget {
  /** tokens for the system prompt and the conversation together (tool definitions not counted) */
  tokens: number;
  /** the most messages read for one turn, however short they are */
  maxMessages: number;
  /** the most open tasks, pending proposals and open questions listed */
  maxOpenItems: number;
}

export const DEFAULT_CONTEXT_BUDGET: Readonly<ContextBudget> = Object.freeze({
  tokens: 24_000,
  maxMessages: 200,
  maxOpenItems: 20,
});

/** A rough token count: about four characters per token. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/**
 * The most of one tool result an earlier turn's reply shows the model: the call itself is kept
 * whole, but a long result (a task list, what recall found) is cut, since the model can call the
 * tool again for all of it. The current turn's results are never cut.
 */
export const PAST_TOOL_RESULT_CHARS = 2_000;

export interface AssembledContext {
  system: string;
  /** the conversation, oldest first, ending with the person's message */
  messages: ModelMessage[];
  /** how many stored messages it holds */
  historyCount: number;
  estimatedTokens: number;
}

/** What a turn's context is made of, as read from the database. */
export interface ContextReads {
  /** the recent conversation, newest first */
  history: HistoryMessage[];
  openTasks: Task[];
  pending: Proposal[];
  openQuestions: OpenQuestion[];
  projects: string | undefined;
}

export interface ContextAssemblerDeps {
  db: Db;
  messages: MessageRepository;
  proposals: ProposalRepository;
  tasks: Pick<TaskService, 'listOpen'>;
  questions: Pick<WorkerService, 'listOpen'>;
  projects: Pick<ProjectService, 'describe'>;
  clock: Clock;
  budget?: Partial<ContextBudget>;
}

/**
 * What the model reads for one turn: a system prompt (who mainloop is, its tools, the projects,
 * the open tasks, pending proposals and open questions in a compact form) and the recent
 * conversation, newest first until the token budget is spent. Everything is read with a LIMIT;
 * nothing scans the history.
 *
 * The conversation part is the seam issue 6 (memory) replaces with recent detail plus daily,
 * weekly and monthly summaries.
 */
export class ContextAssembler {
  private readonly budget: ContextBudget;

  constructor(private readonly deps: ContextAssemblerDeps) {
    this.budget = { ...DEFAULT_CONTEXT_BUDGET, ...deps.budget };
  }

  /** The context of a turn whose messages are stored: the conversation up to the person's message. */
  async assemble(turn: { userId: string; userMessageId: string; replyId: string }): Promise<AssembledContext> {
    return this.compose(await this.read(turn.userId, { upToId: turn.userMessageId, excludeId: turn.replyId }));
  }

  /**
   * Reads what a turn's context is made of, in parallel. With `upToId` (and `excludeId`, the
   * reply being written), the conversation up to that message; without, the newest messages now,
   * one fewer than the budget allows: the reads of a new turn, made while the person's message
   * is being stored, which `compose` then adds.
   */
  async read(userId: string, options: { upToId?: string; excludeId?: string } = {}): Promise<ContextReads> {
    const { db, messages, proposals, tasks, questions, projects } = this.deps;
    const { maxMessages, maxOpenItems } = this.budget;
    const [history, openTasks, pending, openQuestions, projectText] = await Promise.all([
      messages.recentForContext(db, userId, {
        ...options,
        limit: options.upToId ? maxMessages : maxMessages - 1,
      }),
      tasks.listOpen(userId, maxOpenItems),
      proposals.list(db, userId, { status: 'pending', limit: maxOpenItems }),
      questions.listOpen(userId, maxOpenItems),
      projects.describe(userId),
    ]);
    return { history, openTasks, pending, openQuestions, projects: projectText };
  }

  /** The context from what `read` returned; `newest`: the person's message, stored after the reads. */
  compose(reads: ContextReads, newest?: HistoryMessage): AssembledContext {
    const system = systemPrompt({
      now: this.deps.clock.now(),
      projects: reads.projects,
      openTasks: reads.openTasks,
      pending: reads.pending,
      openQuestions: reads.openQuestions,
    });
    // Read alongside the newest message's insert, the history may hold one stored just after it
    // (another device's, that same moment): that one belongs to the next turn.
    const history = newest
      ? [newest, ...reads.history.filter((message) => BigInt(message.id) < BigInt(newest.id))]
      : reads.history;
    const fitted = fitHistory(history, this.budget.tokens - estimateTokens(system));
    const conversation = toModelMessages(fitted);
    const estimatedTokens = estimateTokens(system) + fitted.reduce((sum, message) => sum + messageTokens(message), 0);
    return { system, messages: conversation, historyCount: fitted.length, estimatedTokens };
  }
}

/**
 * The newest messages that fit `tokens`, oldest first. The newest (the person's message) is
 * always kept, cut to the budget when it alone is larger.
 */
export function fitHistory(newestFirst: readonly HistoryMessage[], tokens: number): HistoryMessage[] {
  const kept: HistoryMessage[] = [];
  let left = Math.max(tokens, 0);
  for (const message of newestFirst) {
    const cost = messageTokens(message) + 4;
    if (kept.length === 0 && cost > left) {
      kept.push({ ...message, content: `${message.content.slice(0, Math.max(left - 4, 0) * 4)}\n[… cut to fit]` });
      break;
    }
    if (cost > left) break;
    kept.push(message);
    left -= cost;
  }
  return kept.reverse();
}

/** What a stored message costs in the context: its text, and its tool calls and (cut) results. */
function messageTokens(message: HistoryMessage): number {
  let tokens = estimateTokens(message.content);
  for (const step of message.toolSteps ?? []) {
    for (const call of step.calls) tokens += estimateTokens(call.name + JSON.stringify(call.input ?? {})) + 4;
    for (const result of step.results) tokens += estimateTokens(pastResult(result.content)) + 4;
  }
  return tokens;
}

const pastResult = (content: string) =>
  content.length > PAST_TOOL_RESULT_CHARS
    ? `${content.slice(0, PAST_TOOL_RESULT_CHARS)}\n[… cut to fit the context: call the tool again for all of it]`
    : content;

/**
 * A reply as the model wrote it: for each model request that called tools, its text with those
 * calls, then their results; then the text written after the last of them. `content` is the
 * reply's whole text, `steps` where in it each request's calls were made. `cut` shortens results
 * (an earlier turn's, see PAST_TOOL_RESULT_CHARS); the current turn's go as they are.
 */
export function replyMessages(
  content: string,
  steps: readonly ToolStep[],
  cut: (result: string) => string = (result) => result,
): ModelMessage[] {
  const messages: ModelMessage[] = [];
  let from = 0;
  for (const step of steps) {
    messages.push(
      { role: 'assistant', content: content.slice(from, step.at).trim(), toolCalls: step.calls },
      { role: 'tool', results: step.results.map((result) => ({ ...result, content: cut(result.content) })) },
    );
    from = step.at;
  }
  const rest = content.slice(from).trim();
  if (rest) messages.push({ role: 'assistant', content: rest });
  return messages;
}

/**
 * Stored messages as the model reads them: `event` notes as user-side text marked `[event]`,
 * replies with the tool calls they made and their results (the model's own past actions, as
 * actions: never retold as prose), consecutive user-side texts and assistant texts joined
 * (providers want the roles to alternate), empty replies left out, and the conversation starting
 * with the person.
 */
export function toModelMessages(oldestFirst: readonly HistoryMessage[]): ModelMessage[] {
  const result: ModelMessage[] = [];
  for (const message of oldestFirst) {
    if (message.role === 'assistant') {
      if (result.length === 0) continue;
      for (const part of replyMessages(message.content, message.toolSteps ?? [], pastResult)) {
        const last = result[result.length - 1]!;
        if (part.role === 'assistant' && last.role === 'assistant' && !last.toolCalls?.length) {
          last.content = [last.content, part.content].filter(Boolean).join('\n\n');
          if (part.toolCalls) last.toolCalls = part.toolCalls;
        } else result.push(part);
      }
      continue;
    }
    const text =
      message.role === 'event'
        ? `[event${message.taskId ? ` · task ${message.taskId}` : ''}] ${message.content}`
        : message.content;
    const last = result[result.length - 1];
    if (last?.role === 'user') last.content = `${last.content}\n\n${text}`;
    else result.push({ role: 'user', content: text });
  }
  return result;
}

const INTRODUCTION = `You are mainloop, the assistant in one person's single, continuous conversation (the main thread). mainloop keeps their attention on what matters: you talk with them, keep track of background workers (coding agents that plan, implement, run checks and ask for review on their own), and start new work only with their yes.

How you work:
- Answer directly and briefly. Use Markdown when it helps.
- spawn_task proposes a task for a worker. It starts nothing: the person sees a card with Confirm, Edit and Dismiss, and the task starts only when they confirm. Say that you proposed it; never say a task is running before it is confirmed.
- cancel_task proposes stopping a task; that too waits for the person's confirmation.
- list_tasks and get_task tell you about tasks: use them rather than guessing.
- When the person answers a worker's open question here in the chat, relay the answer with answer_question.
- recall searches older parts of this conversation, by words or by a time range, when what you need is not in the recent messages.
- Lines that start with [event] are notes from mainloop about tasks (a task failed, is ready for review, has a question), not the person's words.
- Your earlier tool calls and what they returned are part of this conversation: a tool's result is what happened. To do something, call the tool; never write a tool call or its result as text, and never say you did something you did not call a tool for.`;

function systemPrompt(parts: {
  now: Date;
  projects: string | undefined;
  openTasks: readonly Task[];
  pending: readonly Proposal[];
  openQuestions: readonly OpenQuestion[];
}): string {
  const sections = [INTRODUCTION, `Now: ${parts.now.toISOString()}`];
  if (parts.projects) sections.push(`Projects:\n${parts.projects}`);
  sections.push(
    parts.openTasks.length
      ? `Open tasks (newest first):\n${parts.openTasks.map(taskLine).join('\n')}`
      : 'Open tasks: none.',
  );
  if (parts.pending.length) {
    sections.push(`Proposals waiting for the person:\n${parts.pending.map(proposalLine).join('\n')}`);
  }
  if (parts.openQuestions.length) {
    sections.push(
      `Open questions from workers:\n${parts.openQuestions
        .map((question) => `- ${question.id} (task ${question.taskId}): ${clip(question.text, 300)}`)
        .join('\n')}`,
    );
  }
  return sections.join('\n\n');
}

function taskLine(task: Task): string {
  return `- ${task.id} · ${task.status}${task.needsInput ? ' · needs input' : ''} · ${clip(task.title, 120)}`;
}

function proposalLine(proposal: Proposal): string {
  const payload = proposal.payload as { title?: string; taskId?: string };
  const what =
    proposal.kind === 'spawn_task' ? `start “${clip(payload.title ?? '', 120)}”` : `cancel task ${payload.taskId}`;
  return `- ${proposal.id} · ${what}`;
}

function clip(text: string, length: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
