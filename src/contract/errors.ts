import { z } from 'zod';

/** Every error code the API can answer with. One place, shared by server, web and CLI. */
export const ErrorCode = z.enum([
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN_ORIGIN',
  'INVALID_CREDENTIALS',
  'SETUP_TOKEN_INVALID',
  'SETUP_ALREADY_DONE',
  'NOT_FOUND',
  'CONFLICT',
  /** done on an inbox item that still holds up work (a plan, a review, a question, a proposal): resolve it or snooze it */
  'ITEM_STILL_WAITING',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  /** the database is down, restarting, too slow or out of disk: 503 with Retry-After */
  'DATABASE_UNAVAILABLE',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiError = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiError = z.infer<typeof ApiError>;
