import type { ErrorCode } from '../contract/errors.js';

/**
 * A failure a person can act on: a stable code, a message that says what to do, optional
 * details, and whether trying again may help. Only the HTTP error handler maps codes to statuses.
 */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} was not found`);
