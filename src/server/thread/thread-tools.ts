import { z } from 'zod';
import { CreateTaskRequest, TaskSpec, TaskStatus, type Task } from '../../contract/tasks.js';
import type { Db } from '../db/database.js';
import type { ModelTool, ToolCall, ToolResult } from '../models/index.js';
import { FINISHED_TASK_STATUSES, type TaskService } from '../tasks/index.js';
import type { WorkerService } from '../workers/index.js';
import type { ContextMessage, MessageRepository } from './message.repository.js';
import type { ProposalService } from './proposal.service.js';

const isoTime = (what: string) =>
  z.iso.datetime({ offset: true, message: `${what} must be an ISO-8601 time such as 2026-03-01T09:00:00Z` });

/** The main thread's tools, named and shaped as API.md fixes them; the descriptions are for the model. */
const SpawnTaskInput = TaskSpec.extend({
  title: TaskSpec.shape.title.describe('A short name for the task, as it will appear in lists'),
  prompt: TaskSpec.shape.prompt.describe(
    'Everything the worker needs: the goal, the context from this conversation, and what done looks like',
  ),
  projectId: TaskSpec.shape.projectId.describe('The project to work in, when one is known'),
  runtime: TaskSpec.shape.runtime.describe(
    'claude-code (the default), codex, or command (runs `command` in the workspace; no plan phase)',
  ),
  model: TaskSpec.shape.model.describe('The agent model, only when the person asked for one'),
  skipPlan: TaskSpec.shape.skipPlan.describe('true to skip the plan the person would otherwise approve first'),
  command: TaskSpec.shape.command.describe('The shell command to run, for runtime "command" only'),
});
const ListTasksInput = z.object({
  status: TaskStatus.optional().describe('Only tasks with this status; all tasks when left out'),
});
const TaskIdInput = z.object({ taskId: z.string().min(1, 'taskId is required').describe('The task id') });
const AnswerQuestionInput = z.object({
  questionId: z.string().min(1, 'questionId is required').describe('The open question’s id'),
  answer: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('The person’s answer: their words, or the labels of the options they chose'),
});
const RecallInput = z.object({
  query: z.string().trim().min(1).max(500).optional().describe('Words to search the conversation for'),
  from: isoTime('from').optional().describe('Start of a time range (ISO-8601)'),
  to: isoTime('to').optional().describe('End of a time range (ISO-8601)'),
});

export const THREAD_TOOLS: readonly ModelTool[] = [
  {
    name: 'spawn_task',
    description:
      'Propose a task for a background worker. Nothing starts: the person sees a card and confirms, edits or dismisses it.',
    inputSchema: SpawnTaskInput,
  },
  {
    name: 'list_tasks',
    description: 'List the person’s tasks, newest first (at most 50), optionally only those with one status.',
    inputSchema: ListTasksInput,
  },
  { name: 'get_task', description: 'Everything about one task.', inputSchema: TaskIdInput },
  {
    name: 'cancel_task',
    description: 'Propose cancelling a task. Nothing stops until the person confirms.',
    inputSchema: TaskIdInput,
  },
  {
    name: 'answer_question',
    description: 'Relay to a worker the answer the person gave here in the chat to its open question.',
    inputSchema: AnswerQuestionInput,
  },
  {
    name: 'recall',
    description:
      'Search older parts of this conversation: by words (best matches first), or every message in a time range (from/to), or both.',
    inputSchema: RecallInput,
  },
];

const LIST_TASKS_LIMIT = 50;
const RECALL_SEARCH_LIMIT = 20;
const RECALL_RANGE_LIMIT = 100;
const RECALL_EXCERPT = 600;

export interface ThreadToolsDeps {
  db: Db;
  messages: MessageRepository;
  tasks: Pick<TaskService, 'list' | 'find'>;
  proposals: Pick<ProposalService, 'proposeTask' | 'proposeCancel'>;
  questions: Pick<WorkerService, 'answerFromThread'>;
}

/** Who is calling: the user, and the reply the tool call belongs to (a proposal is linked to it). */
export interface ToolContext {
  userId: string;
  replyId: string;
}

/** Thrown by a tool for what the model should read and correct; anything else is a real failure. */
class ToolRefusal extends Error {}

/**
 * Runs the main thread's tools for one tool call. Each run is idempotent by the tool call id:
 * a proposal is made once per call, and the other tools only read. Bad input or an unknown id
 * comes back to the model as an error result it can act on, never as a crash.
 */
export class ThreadTools {
  readonly definitions = THREAD_TOOLS;

  constructor(private readonly deps: ThreadToolsDeps) {}

  async run(context: ToolContext, call: ToolCall): Promise<ToolResult> {
    const result = (content: unknown, isError = false): ToolResult => ({
      callId: call.id,
      name: call.name,
      content: typeof content === 'string' ? content : JSON.stringify(content),
      ...(isError ? { isError: true } : {}),
    });
    try {
      return result(await this.dispatch(context, call));
    } catch (error) {
      if (error instanceof ToolRefusal) return result(error.message, true);
      throw error;
    }
  }

  private async dispatch(context: ToolContext, call: ToolCall): Promise<unknown> {
    const { userId } = context;
    switch (call.name) {
      case 'spawn_task': {
        const spec = parse(call, CreateTaskRequest);
        const proposal = await this.deps.proposals.proposeTask(
          userId,
          { messageId: context.replyId, toolCallId: call.id },
          spec,
        );
        return {
          proposalId: proposal.id,
          status: proposal.status,
          note: 'The person now sees this as a card with Confirm, Edit and Dismiss. Nothing starts until they confirm.',
        };
      }
      case 'cancel_task': {
        const { taskId } = parse(call, TaskIdInput);
        const task = await this.ownTask(userId, taskId);
        if (FINISHED_TASK_STATUSES.includes(task.status)) {
          throw new ToolRefusal(`task ${taskId} is already ${task.status}; there is nothing to cancel`);
        }
        const proposal = await this.deps.proposals.proposeCancel(
          userId,
          { messageId: context.replyId, toolCallId: call.id },
          taskId,
        );
        return {
          proposalId: proposal.id,
          status: proposal.status,
          note: 'The person now sees a card to confirm the cancellation. The task keeps running until they do.',
        };
      }
      case 'list_tasks': {
        const { status } = parse(call, ListTasksInput);
        const tasks = await this.deps.tasks.list(userId, { status });
        return {
          tasks: tasks.slice(0, LIST_TASKS_LIMIT).map(taskSummary),
          ...(tasks.length > LIST_TASKS_LIMIT ? { more: tasks.length - LIST_TASKS_LIMIT } : {}),
        };
      }
      case 'get_task': {
        const { taskId } = parse(call, TaskIdInput);
        return { task: await this.ownTask(userId, taskId) };
      }
      case 'answer_question': {
        const { questionId, answer } = parse(call, AnswerQuestionInput);
        const outcome = await this.deps.questions.answerFromThread(userId, questionId, answer);
        if (!outcome.ok) throw new ToolRefusal(outcome.error);
        return { answered: questionId };
      }
      case 'recall':
        return this.recall(userId, parse(call, RecallInput));
      default:
        throw new ToolRefusal(
          `there is no tool named ${call.name}; the tools are ${THREAD_TOOLS.map((tool) => tool.name).join(', ')}`,
        );
    }
  }

  private async ownTask(userId: string, taskId: string): Promise<Task> {
    const task = await this.deps.tasks.find(userId, taskId);
    if (!task) throw new ToolRefusal(`no task with id ${taskId} (list_tasks shows the ids)`);
    return task;
  }

  private async recall(userId: string, input: z.infer<typeof RecallInput>): Promise<unknown> {
    const { db, messages } = this.deps;
    const from = input.from ? new Date(input.from) : undefined;
    const to = input.to ? new Date(input.to) : undefined;
    if (!input.query && !from && !to) throw new ToolRefusal('give a query, a time range (from/to), or both');
    if (from && to && from > to) throw new ToolRefusal('from must not be after to');
    if (input.query) {
      const hits = await messages.search(db, userId, { query: input.query, from, to, limit: RECALL_SEARCH_LIMIT });
      return { messages: hits.map(excerpt) };
    }
    const { records, hasMore } = await messages.range(db, userId, { from, to, limit: RECALL_RANGE_LIMIT });
    return {
      messages: records.map(excerpt),
      ...(hasMore ? { more: `only the first ${RECALL_RANGE_LIMIT}; ask for a narrower range` } : {}),
    };
  }
}

function parse<T extends z.ZodType>(call: ToolCall, schema: T): z.infer<T> {
  const parsed = schema.safeParse(call.input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
  throw new ToolRefusal(`invalid input for ${call.name}: ${problems.join('; ')}`);
}

function taskSummary(task: Task) {
  return {
    id: task.id,
    number: task.number,
    title: task.title,
    status: task.status,
    runtime: task.runtime,
    projectId: task.projectId,
    needsInput: task.needsInput,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
  };
}

function excerpt(message: Pick<ContextMessage, 'id' | 'role' | 'content' | 'createdAt'>) {
  const content =
    message.content.length > RECALL_EXCERPT ? `${message.content.slice(0, RECALL_EXCERPT)}…` : message.content;
  return { id: message.id, role: message.role, at: message.createdAt.toISOString(), content };
}
