import { SettingsPatch, SettingsResponse } from '../../contract/settings.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { SettingsService } from './settings.service.js';

/** GET /api/settings · PATCH /api/settings */
export function settingsRoutes(settings: SettingsService): RoutePlugin {
  return (api) => {
    api.get(
      '/settings',
      {
        schema: {
          tags: ['settings'],
          summary: 'Your settings, with defaults for what you never changed',
          response: { 200: SettingsResponse },
        },
      },
      async (request) => ({ settings: await settings.get(principalOf(request).userId) }),
    );

    api.patch(
      '/settings',
      {
        schema: {
          tags: ['settings'],
          summary: 'Change some settings (unknown keys are refused); every device receives settings.updated',
          body: SettingsPatch,
          response: { 200: SettingsResponse },
        },
      },
      async (request) => ({ settings: await settings.update(principalOf(request).userId, request.body) }),
    );
  };
}
