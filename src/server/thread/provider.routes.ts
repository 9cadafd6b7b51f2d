import { ProvidersResponse, type SandboxStatus } from '../../contract/providers.js';
import type { RoutePlugin } from '../http/app.js';
import type { ProvidersDescription } from '../models/index.js';

/** The agent runtimes, as the workers module describes them (each checked when asked: a CLI may be installed later). */
export interface RuntimeDescriber {
  describe(): Promise<ProvidersResponse['runtimes']>;
}

/** The sandbox tasks run in, as the workers module found it. */
export interface SandboxDescriber {
  status(): Promise<SandboxStatus>;
}

/** GET /api/providers: what the model layer found at start-up, which agent runtimes can run, and the sandbox. */
export function providerRoutes(
  providers: ProvidersDescription,
  runtimes: RuntimeDescriber,
  sandbox: SandboxDescriber,
): RoutePlugin {
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
          summary:
            'Which model provider the main thread uses, which agent runtimes workers can use, the sandbox they run in, and why (not)',
          response: { 200: ProvidersResponse },
        },
      },
      async (): Promise<ProvidersResponse> => {
        const [described, status] = await Promise.all([runtimes.describe(), sandbox.status()]);
        return { ...models, runtimes: described, sandbox: status };
      },
    );
  };
}
