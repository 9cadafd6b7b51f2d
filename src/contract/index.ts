export * from './errors.js';
export * from './auth.js';
export * from './settings.js';
export * from './events.js';
export * from './health.js';
export * from './thread.js';
export * from './tasks.js';
