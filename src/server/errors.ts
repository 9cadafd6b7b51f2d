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

/**
 * Start-up cannot go on for a reason the person can fix (the data directory in use, the executor
 * id held by a live server): `npm start` says the message alone, without a stack. Told apart by
 * its name: the bundle has a copy of this module on each side of its core (decision 0015).
 */
export class StartupRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupRefused';
  }
}

export function isStartupRefused(error: unknown): error is StartupRefused {
  return error instanceof Error && error.name === 'StartupRefused';
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} was not found`);
