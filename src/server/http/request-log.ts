import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request, when it has been answered (Fastify's default writes two: one on
 * arrival, one on completion, each with the whole request or reply serialised). Fields are
 * flat and few; the path is logged without its query string, which can carry a secret (the
 * set-up link's token). Every other line Fastify writes about a request (stream errors,
 * serializer failures) is kept, and all of them carry the request id (`reqId`).
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const query = request.url.indexOf('?');
    const fields = {
      method: request.method,
      path: query === -1 ? request.url : request.url.slice(0, query),
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime,
    };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}
