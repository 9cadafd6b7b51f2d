#!/usr/bin/env node
// `npm start`: install what is missing, build what is stale, then run mainloop in this process.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDependencies, root } from './lib.mjs';

ensureDependencies();
const { build } = await import('./build.mjs');
await build({ quiet: true });
await import(pathToFileURL(path.join(root, 'dist/server/main.js')).href);
