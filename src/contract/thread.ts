import { z } from 'zod';

/** The main thread and what it proposes: the wire format of API.md's Thread and Proposals. */

export const MessageRole = z.enum(['user', 'assistant', 'event']);
export const MessageStatus = z.enum(['streaming', 'complete', 'error']);

export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().optional(),
});
export type Usage = z.infer<typeof Usage>;

export const Message = z.object({
  id: z.string(),
  role: MessageRole,
  content: z.string(),
  status: MessageStatus,
  createdAt: z.string(),
  clientId: z.string().optional(),
  proposalIds: z.array(z.string()).optional(),
  taskId: z.string().optional(),
  usage: Usage.optional(),
  /** why a reply ended in `error`, for a person */
  error: z.string().optional(),
});
export type Message = z.infer<typeof Message>;

export const MAX_MESSAGE_LENGTH = 100_000;

/** POST /api/thread/messages */
export const PostMessageRequest = z.object({
  content: z
    .string()
    .refine((value) => value.trim().length > 0, 'content must not be empty')
    .pipe(z.string().max(MAX_MESSAGE_LENGTH, `content is at most ${MAX_MESSAGE_LENGTH} characters`)),
  clientId: z.string().min(1, 'clientId is required').max(200, 'clientId is at most 200 characters'),
});
export type PostMessageRequest = z.infer<typeof PostMessageRequest>;

/** GET /api/thread/messages: pages backwards (`before`, `limit`) or a time range (`from`, `to`). */
export const ListMessagesQuery = z
  .object({
    before: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1, 'limit is at least 1').max(200, 'limit is at most 200').optional(),
    from: z.iso.datetime({ offset: true, message: 'from must be an ISO-8601 time' }).optional(),
    to: z.iso.datetime({ offset: true, message: 'to must be an ISO-8601 time' }).optional(),
  })
  .refine((query) => !(query.before && (query.from || query.to)), 'use either before/limit or from/to, not both');
export type ListMessagesQuery = z.infer<typeof ListMessagesQuery>;

export const MessagePage = z.object({ messages: z.array(Message), hasMore: z.boolean() });
export type MessagePage = z.infer<typeof MessagePage>;

export const RUNTIMES = ['claude-code', 'codex', 'command'] as const;
export const Runtime = z.enum(RUNTIMES);
export type Runtime = z.infer<typeof Runtime>;

/** What a task is asked to be: `spawn_task`'s input, a proposal's payload, `POST /api/tasks`'s body. */
export const TaskSpec = z.object({
  title: z.string().trim().min(1, 'title is required').max(200, 'title is at most 200 characters'),
  prompt: z.string().trim().min(1, 'prompt is required').max(MAX_MESSAGE_LENGTH),
  projectId: z.string().min(1).optional(),
  runtime: Runtime.optional(),
  model: z.string().min(1).max(200).optional(),
  skipPlan: z.boolean().optional(),
  command: z.string().min(1).max(10_000).optional(),
});
export type TaskSpec = z.infer<typeof TaskSpec>;

/**
 * A TaskSpec that can become a task: `POST /api/tasks`'s body, an edited proposal's payload and
 * what `spawn_task` is checked against. A `command` task names its command; no other runtime takes one.
 */
export const CreateTaskRequest = TaskSpec.superRefine((spec, context) => {
  if (spec.runtime === 'command' && !spec.command) {
    context.addIssue({ code: 'custom', path: ['command'], message: 'a task with runtime "command" needs `command`' });
  }
  if (spec.command && spec.runtime !== 'command') {
    context.addIssue({
      code: 'custom',
      path: ['runtime'],
      message: '`command` is only for runtime "command" (set runtime to "command", or leave command out)',
    });
  }
});
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;

export const ProposalKind = z.enum(['spawn_task', 'cancel_task']);
export const ProposalStatus = z.enum(['pending', 'confirmed', 'dismissed']);
export const CancelTaskPayload = z.object({ taskId: z.string(), reason: z.string().optional() });
export type CancelTaskPayload = z.infer<typeof CancelTaskPayload>;

export const Proposal = z.object({
  id: z.string(),
  kind: ProposalKind,
  status: ProposalStatus,
  payload: z.union([TaskSpec, CancelTaskPayload]),
  taskId: z.string().optional(),
  messageId: z.string(),
  createdAt: z.string(),
});
export type Proposal = z.infer<typeof Proposal>;

/** POST /api/thread/messages → 202, POST /api/thread/messages/:id/retry → 202 */
export const MessageResponse = z.object({ message: Message });
export type MessageResponse = z.infer<typeof MessageResponse>;

export const MessageIdParams = z.object({ id: z.string().min(1, 'id is required') });
