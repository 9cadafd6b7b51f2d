import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { TaskRunner } from '../../src/server/tasks/index.js';
import type { AgentRuntime } from '../../src/server/workers/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeRepository } from '../support/tasks.js';

/** Helpers shared by the browser tests: Debian's Chromium through playwright-core, the built app, screenshots. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_ROOT = path.join(repoRoot, 'dist/web');
const SCREENSHOTS = path.join(repoRoot, 'test-artifacts/screenshots');

export const OWNER = { username: 'owner', password: 'correct horse battery staple' };
export const MOBILE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 800 };

export function assertWebAppBuilt(): void {
  if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
    throw new Error(`the web app is not built (${WEB_ROOT}): run \`npm run build\` or \`npx vite build\` first`);
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.MAINLOOP_CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A browser context for `baseURL`. Service workers are blocked unless asked for: they would
 * hide the page's requests from Playwright's routing, and most tests are not about them.
 */
export function newContext(
  browser: Browser,
  baseURL: string,
  options: BrowserContextOptions & { serviceWorkers?: 'allow' | 'block' } = {},
): Promise<BrowserContext> {
  return browser.newContext({ baseURL, serviceWorkers: 'block', viewport: DESKTOP, ...options });
}

/** Creates the owner through the one-time set-up link's API (for tests that are not about set-up). */
export async function setUpOwner(baseURL: string, setupToken: string): Promise<void> {
  const response = await fetch(`${baseURL}/api/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: setupToken, ...OWNER }),
  });
  if (!response.ok) throw new Error(`set-up failed: ${response.status} ${await response.text()}`);
}

/** Signs the context in as the owner (the session cookie lands in the context's cookie jar). */
export async function signIn(context: BrowserContext): Promise<void> {
  const response = await context.request.post('/api/auth/login', { data: OWNER });
  if (!response.ok()) throw new Error(`sign-in failed: ${response.status()} ${await response.text()}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** What a browser test may ask of its server: the agent runtimes (e.g. a ScriptedRuntime), what runs a task, extra environment. */
export interface AppServerOptions {
  runtimes?: AgentRuntime[];
  taskRunner?: TaskRunner;
  env?: Record<string, string>;
}

/** `/api` + url with the server's API token; throws on an error status; undefined for 204. */
export type Api = <T = unknown>(method: string, url: string, body?: unknown) => Promise<T>;

export function apiOf(server: Pick<TestServer, 'url' | 'authHeaders'>): Api {
  return async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${server.url}/api${url}`, {
      method,
      headers: { ...server.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return (response.status === 204 ? undefined : await response.json()) as T;
  };
}

/**
 * A real server (test/support) serving the built app, whose owner has no password yet, and its
 * one-time set-up token: from the harness when it offers one, else from the link the server prints.
 */
export async function startServerAwaitingSetup(
  options: AppServerOptions = {},
): Promise<{ server: TestServer; setupToken: string }> {
  const stdout = process.stdout;
  const write = stdout.write;
  let printed = '';
  stdout.write = function (this: typeof stdout, chunk: unknown, ...rest: unknown[]) {
    printed += String(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stdout.write;
  let server: TestServer;
  try {
    server = await startTestServer({ webRoot: WEB_ROOT, ...options });
  } finally {
    stdout.write = write;
  }
  const offered = (server as TestServer & { setupToken?: string }).setupToken;
  const setupToken = offered ?? /\/setup\?token=([A-Za-z0-9_~.%-]+)/.exec(printed)?.[1];
  if (!setupToken) {
    await server.close();
    throw new Error('the test server offered no set-up link: is the owner already set up?');
  }
  return { server, setupToken: decodeURIComponent(setupToken) };
}

/** A real server whose owner is set up (OWNER) and signed in once, and a Chromium: what most browser test files start with. */
export interface AppWithOwner {
  server: TestServer;
  browser: Browser;
  /** the owner's signed-in cookies, for new contexts (sign-in is rate limited: once per file) */
  signedIn: BrowserContextOptions['storageState'];
  api: Api;
  close(): Promise<void>;
}

export async function startAppWithOwner(options: AppServerOptions = {}): Promise<AppWithOwner> {
  assertWebAppBuilt();
  const { server, setupToken } = await startServerAwaitingSetup(options);
  let browser: Browser | undefined;
  try {
    await setUpOwner(server.url, setupToken);
    browser = await launchChromium();
    const context = await newContext(browser, server.url);
    await signIn(context);
    const signedIn = await context.storageState();
    await context.close();
    const opened = browser;
    return {
      server,
      browser,
      signedIn,
      api: apiOf(server),
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}

/** startAppWithOwner with a project on a real local git repository, and what the tests of workers share. */
export interface AppWithProject extends AppWithOwner {
  /** the project's repository (removed by close) */
  repo: string;
  projectId: string;
}

export async function startAppWithProject(
  options: AppServerOptions & { project: { name: string; checkCommand: string }; repoPrefix: string },
): Promise<AppWithProject> {
  const app = await startAppWithOwner(options);
  let repo: string | undefined;
  try {
    repo = await makeRepository({ prefix: options.repoPrefix });
    const { project } = await app.api<{ project: { id: string } }>('POST', '/projects', {
      name: options.project.name,
      repo: { kind: 'local', path: repo },
      checkCommand: options.project.checkCommand,
    });
    const made = repo;
    return {
      ...app,
      repo: made,
      projectId: project.id,
      async close() {
        await app.close();
        await rm(made, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await app.close();
    if (repo) await rm(repo, { recursive: true, force: true });
    throw error;
  }
}
