export { SettingsService, withDefaults, type NotificationPreferences } from './settings.service.js';
export { SettingsRepository } from './settings.repository.js';
export { settingsRoutes } from './settings.routes.js';
