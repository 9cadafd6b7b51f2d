import { z } from 'zod';

/** The main thread: the wire format of API.md's Thread. */

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

/** POST /api/thread/messages → 202, POST /api/thread/messages/:id/retry → 202 */
export const MessageResponse = z.object({ message: Message });
export type MessageResponse = z.infer<typeof MessageResponse>;

export const MessageIdParams = z.object({ id: z.string().min(1, 'id is required') });
