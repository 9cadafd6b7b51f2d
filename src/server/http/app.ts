import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { Health, HealthUnavailable } from '../../contract/health.js';
import type { Config } from '../config/index.js';
import type { DatabaseHealth } from '../db/database-health.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '../db/outage.js';
import { DomainError } from '../errors.js';
import { registerErrorHandling } from './error-handler.js';
import type { Principal } from './request-context.js';
import { lazyChildLogger, RequestLog } from './request-log.js';
import { registerSecurityHeaders } from './security-headers.js';
import { refuseUnstorableInput } from './storable-input.js';
import { serializerCompiler } from './serializer.js';
import { warnOfUntrustedProxy } from './untrusted-proxy.js';
import { serveWebApp } from './web-app.js';

export type App = FastifyInstance;
export type AppWithZod = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A feature's routes: registered under /api by the composition root. */
export type RoutePlugin = (app: AppWithZod) => void | Promise<void>;

export interface HttpAppOptions {
  config: Config;
  logger: Logger;
  /** Resolves the caller from a cookie or bearer token; null when neither proves anyone. */
  authenticate: (request: FastifyRequest) => Promise<Principal | null>;
  routes: RoutePlugin[];
  /** Where the built web app is; omitted in API-only tests. */
  webRoot?: string;
  /** Whether the database answers, for `GET /api/health`; omitted: the health route does not ask. */
  databaseHealth?: Pick<DatabaseHealth, 'check'>;
}

/** An HTTP app with its plugins loaded and no routes under /api yet. */
export interface PreparedHttpApp {
  /** Registers /api (health, the OpenAPI document and every feature's routes); once. */
  mount(routes: RoutePlugin[]): Promise<FastifyInstance>;
  /**
   * Answers one health request in-process, unlogged, once mounted: the first request's one-time
   * costs (code compiled on first use, the routes' serializers, Node's date cache) are paid while
   * Postgres still starts rather than by the first client.
   */
  warmUp(): Promise<void>;
  /** Closes the app, mounted or not. */
  close(): Promise<void>;
}

const UNAUTHENTICATED_MESSAGE = 'sign in or send an API token (Authorization: Bearer …)';

/** The HTTP face of mainloop: plugins, the auth guard, error mapping, docs and every feature's routes. */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  return (await prepareHttpApp(options)).mount(options.routes);
}

/**
 * createHttpApp in two steps: loading the plugins, and the web app, takes a while and needs no
 * database, so start-up does it while Postgres starts, and mounts the routes once the services
 * exist (server.ts). `authenticate` is called from the first request on.
 */
export async function prepareHttpApp(options: Omit<HttpAppOptions, 'routes'>): Promise<PreparedHttpApp> {
  const { config } = options;
  const requestLog = new RequestLog(options.logger as FastifyBaseLogger);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: requestLog,
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    forceCloseConnections: true, // SSE connections must not hold up shutdown
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerSecurityHeaders(app);
  if (!config.trustProxy) warnOfUntrustedProxy(app);
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  registerErrorHandling(app);
  refuseUnstorableInput(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'mainloop API', version: config.version, description: 'The public HTTP contract of mainloop.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'mainloop_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await registerPublic(app, (docs) => docs.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: false }));

  // Public routes say so in the OpenAPI document too (no security requirement).
  app.addHook('onRoute', (route) => {
    if (route.config?.public) route.schema = { ...route.schema, security: [] };
  });

  app.decorateRequest('principal', null);
  // Decided on the route the router matched, never on the raw URL: the router decodes the path
  // (`/%61pi/providers` is /api/providers), so any test of the URL's text can be spelled around.
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions;
    if (route.config?.public || !route.url) return done(); // public, or unknown: let it answer 404
    options.authenticate(request).then((principal) => {
      request.principal = principal;
      done(principal ? undefined : new DomainError('UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE));
    }, done);
  });

  const { webRoot } = options;
  if (webRoot) await registerPublic(app, (web) => serveWebApp(web, webRoot));

  let mounted = false;
  return {
    async mount(routes) {
      if (mounted) throw new Error('the routes are mounted already');
      mounted = true;
      await app.register(
        async (api) => {
          const zodApi = api.withTypeProvider<ZodTypeProvider>();
          zodApi.get(
            '/health',
            {
              config: { public: true },
              schema: {
                tags: ['meta'],
                summary: 'Health and version',
                description:
                  '200 when the server and its database answer; 503 (with Retry-After) while the database is down.',
                security: [],
                response: { 200: Health, 503: HealthUnavailable },
              },
            },
            async (_request, reply) => {
              if ((await options.databaseHealth?.check()) === 'down') {
                return reply
                  .status(503)
                  .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
                  .send({ status: 'unavailable' as const, version: config.version, database: 'down' as const });
              }
              return { status: 'ok' as const, version: config.version };
            },
          );
          zodApi.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
          for (const plugin of routes) await plugin(zodApi);
        },
        { prefix: '/api' },
      );
      return app;
    },
    async warmUp() {
      if (!mounted) throw new Error('mount the routes first');
      await requestLog.quietly(() => app.inject({ method: 'GET', url: '/api/health' }));
    },
    close: () => app.close(),
  };
}

/** Registers routes that answer without credentials (the docs, the web app), each marked public. */
async function registerPublic(app: FastifyInstance, register: (scope: FastifyInstance) => unknown): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await register(scope);
  });
}
