import { ProvidersResponse } from '../../contract/providers.js';
import type { RoutePlugin } from '../http/app.js';
import type { ProvidersDescription } from '../models/index.js';

/** The agent runtimes, as the workers module describes them (each checked when asked: a CLI may be installed later). */
export interface RuntimeDescriber {
  describe(): Promise<ProvidersResponse['runtimes']>;
}

/** GET /api/providers: what the model layer found at start-up, and which agent runtimes can run. */
export function providerRoutes(providers: ProvidersDescription, runtimes: RuntimeDescriber): RoutePlugin {
  const models = {
    active: providers.active === 'none' ? null : { provider: providers.active, model: providers.model ?? null },
    setting: providers.setting,
    summary: providers.summary,
    providers: providers.providers.map(({ name, available, reason }) => ({ name, available, reason })),
  };
  return (api) => {
    api.get(
      '/providers',
      {
        schema: {
          tags: ['providers'],
          summary: 'Which model provider the main thread uses, which agent runtimes workers can use, and why (not)',
          response: { 200: ProvidersResponse },
        },
      },
      async (): Promise<ProvidersResponse> => ({ ...models, runtimes: await runtimes.describe() }),
    );
  };
}
