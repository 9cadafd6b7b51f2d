#!/usr/bin/env node
// Installs dependencies if they are missing and builds what is stale (used by `npm run bench`).
import { ensureDependencies } from './lib.mjs';

ensureDependencies();
const { build } = await import('./build.mjs');
await build();
