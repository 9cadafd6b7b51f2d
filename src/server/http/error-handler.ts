import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import type { ErrorCode } from '../../contract/errors.js';
import { DATABASE_RETRY_AFTER_SECONDS, databaseOutage } from '../db/outage.js';
import { DomainError } from '../errors.js';
import { LogThrottle } from '../lib/log-throttle.js';

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN_ORIGIN: 403,
  INVALID_CREDENTIALS: 401,
  SETUP_TOKEN_INVALID: 400,
  SETUP_ALREADY_DONE: 409,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ITEM_STILL_WAITING: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * The one place errors become HTTP answers: domain errors by their code, bad input as 400
 * naming what was wrong, a database that cannot serve anyone now (down, restarting, too slow,
 * out of disk) as 503 with `Retry-After`, anything unknown as a plain 500 logged with the request id.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  // An outage fails every request alike: its reason is logged once a minute, not once per request.
  const outages = new LogThrottle();
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof DomainError) {
      const status = STATUS[error.code];
      if (status === 503) reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return reply.status(status).send({ code: error.code, message: error.message, details: error.details });
    }
    const outage = databaseOutage(error);
    if (outage) {
      const level = outage.kind === 'disk_full' ? 'error' : 'warn';
      const fields = { err: error, requestId: request.id };
      outages.log(request.log, level, outage.kind, fields, `a request failed: ${outage.message}`);
      return reply
        .status(503)
        .header('retry-after', String(outage.retryAfterSeconds))
        .send({ code: 'DATABASE_UNAVAILABLE', message: outage.message });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.map((issue) => ({
        path: [error.validationContext, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
        message: issue.message,
      }));
      return reply.status(400).send({
        code: 'VALIDATION_FAILED',
        message: `invalid request: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
        details: { issues },
      });
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
      return reply.status(500).send({ code: 'INTERNAL', message: `internal error (request ${request.id})` });
    }
    const status = error.statusCode ?? 500;
    if (status === 429) {
      return reply
        .status(429)
        .send({ code: 'RATE_LIMITED', message: error.message || 'too many requests: wait a moment and try again' });
    }
    if (status === 413) {
      return reply.status(413).send({ code: 'PAYLOAD_TOO_LARGE', message: 'the request body is too large' });
    }
    if (status >= 400 && status < 500) {
      // Fastify's own input errors: malformed JSON, wrong content type, empty body…
      return reply.status(status === 415 ? 415 : 400).send({ code: 'BAD_REQUEST', message: error.message });
    }
    request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    return reply.status(500).send({ code: 'INTERNAL', message: `internal error (request ${request.id})` });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
