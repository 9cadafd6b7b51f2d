import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The built Svelte app at `/`, with index.html for every path that is not a file or /api. */
export async function serveWebApp(app: FastifyInstance, webRoot: string): Promise<void> {
  if (!existsSync(path.join(webRoot, 'index.html'))) {
    app.log.warn({ webRoot }, 'the web app is not built (run `npm run build`); serving the API only');
    return;
  }
  await app.register(fastifyStatic, {
    root: webRoot,
    wildcard: false,
    index: ['index.html'],
    setHeaders(response, filePath) {
      const name = path.basename(filePath);
      if (name === 'sw.js' || name === 'index.html' || name.endsWith('.webmanifest')) {
        response.header('cache-control', 'no-cache');
      } else if (filePath.includes(`${path.sep}assets${path.sep}`)) {
        response.header('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
  app.get<{ Params: { '*': string } }>('/*', { schema: { hide: true } }, async (request, reply) => {
    // The path as the router decoded it, its `.`, `..` and doubled slashes resolved as a browser
    // or a proxy would: `//api/x`, `/%2e/api/x` and `/API/x` are not pages of the app either.
    const pagePath = path.posix.normalize(`/${request.params['*']}`);
    if (/^\/api(\/|;|$)/i.test(pagePath) || path.extname(pagePath)) {
      const urlPath = request.url.split('?')[0] ?? '/';
      return reply.status(404).send({ code: 'NOT_FOUND', message: `no such file ${urlPath}` });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
}
