/**
 * What start-up loads while the embedded Postgres starts (see server.ts): the database layer and
 * the migrations, the HTTP app, the services and the durable runtime. One module, so that the
 * bundle can build it as one file and load it with V8's code cache (docs/decisions/0015).
 */
export { DatabaseHealth } from './db/database-health.js';
export { openConnections, openDatabase } from './db/database.js';
export { takeInstanceLock } from './db/instance-lock.js';
export { migrate } from './db/migrate.js';
export { prepareHttpApp } from './http/app.js';
export { createServices } from './services.js';
export { prepareDurableRuntime } from './workflows/index.js';
