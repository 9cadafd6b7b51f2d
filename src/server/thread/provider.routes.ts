import { ProvidersResponse } from '../../contract/providers.js';
import type { RoutePlugin } from '../http/app.js';
import type { ProvidersDescription } from '../models/index.js';

/** GET /api/providers: what the model layer found at start-up. */
export function providerRoutes(providers: ProvidersDescription): RoutePlugin {
  const body: ProvidersResponse = {
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
          summary: 'Which model provider the main thread uses, and why each one is or is not available',
          response: { 200: ProvidersResponse },
        },
      },
      async () => body,
    );
  };
}
