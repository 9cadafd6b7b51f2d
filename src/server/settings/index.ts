export { SettingsService, withDefaults } from './settings.service.js';
export { SettingsRepository } from './settings.repository.js';
export { settingsRoutes } from './settings.routes.js';
