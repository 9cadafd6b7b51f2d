import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors.js';
import { unstorableField } from '../lib/storable-text.js';

/**
 * Every route refuses input Postgres could not store (a NUL, a lone surrogate) with a 400 that
 * names the field, before its schema and its handler see it: in the body, the path parameters and
 * the query, whether or not the route has a schema for them. It used to reach Postgres and answer
 * 500. Answered like a schema's own error (VALIDATION_FAILED, `details.issues`).
 */
export function refuseUnstorableInput(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const issue =
      unstorableField(request.params, 'params') ??
      unstorableField(request.query, 'querystring') ??
      unstorableField(request.body, 'body');
    if (!issue) return done();
    done(
      new DomainError('VALIDATION_FAILED', `invalid request: ${issue.path}: ${issue.message}`, {
        details: { issues: [issue] },
      }),
    );
  });
}
