import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import {
  assertWebAppBuilt,
  launchChromium,
  MOBILE,
  newContext,
  OWNER,
  screenshot,
  startServerAwaitingSetup,
} from './browser.js';

describe('signing in (browser)', () => {
  let server: TestServer;
  let setupToken: string;
  let browser: Browser;

  beforeAll(async () => {
    assertWebAppBuilt();
    // a fresh server: its owner has no password yet, so it hands out a one-time set-up link
    ({ server, setupToken } = await startServerAwaitingSetup());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sets up the owner through the set-up link, signs out, and signs in again', async () => {
    const context = await newContext(browser, server.url, { viewport: MOBILE });
    const page = await context.newPage();

    // No owner yet and no link in hand: the app says where the link is.
    await page.goto('/');
    await page.waitForURL('**/setup');
    await expect(page.getByTestId('setup-instructions').textContent()).resolves.toMatch(/printed in the terminal/);

    // A wrong token is refused with the server's message.
    await page.goto('/setup?token=not-the-token');
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByLabel('Repeat password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await page.getByTestId('setup-error').waitFor();
    expect(new URL(page.url()).pathname).toBe('/setup');

    // The real link signs the new owner in and opens the app.
    await page.goto(`/setup?token=${encodeURIComponent(setupToken)}`);
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByLabel('Repeat password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByTestId('chat-pane').waitFor();
    await screenshot(page, 'signed-in-after-setup');

    // A reload keeps the session (httpOnly cookie); /signin now leads home.
    await page.goto('/signin');
    await page.waitForURL((url) => url.pathname === '/');

    // Sign out from the settings page.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL('**/settings');
    await expect(page.getByTestId('signed-in-user').textContent()).resolves.toBe(OWNER.username);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    await page.goto('/settings');
    await page.waitForURL('**/signin');

    // The set-up link works once.
    await page.goto(`/setup?token=${encodeURIComponent(setupToken)}`);
    await page.getByLabel('Username').fill('someone-else');
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByLabel('Repeat password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await page.getByTestId('setup-error').waitFor();

    // A wrong password shows the server's message; the right one opens the app.
    await page.goto('/signin');
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByTestId('signin-error');
    await error.waitFor();
    expect((await error.textContent())?.trim()).not.toBe('');
    await screenshot(page, 'signin-error');

    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByTestId('chat-pane').waitFor();
    await context.close();
  });
});
