import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request, when it has been answered (Fastify's default writes two: one on
 * arrival, one on completion, each with the whole request or reply serialised), with the
 * request id as `reqId`. Its fields are few and fixed, none of them a secret: the path is logged
 * without its query string, which can carry one (the set-up link's token). So this line skips
 * the logger's redaction, which would cost more than the rest of the line. A request that
 * failed while its answer was being sent, and every other line Fastify writes about a request
 * (stream errors, serializer failures), go through the request's own logger, redacted, with the
 * request id.
 */
export class RequestLog extends LogController {
  private readonly lines: FastifyBaseLogger;

  constructor(logger: FastifyBaseLogger) {
    super();
    this.lines = logger.child({}, { redact: { paths: [] } });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const query = request.url.indexOf('?');
    const path = query === -1 ? request.url : request.url.slice(0, query);
    const fields = { method: request.method, path, statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else this.lines.info({ reqId: request.id, ...fields }, 'request completed');
  }
}
