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

    // A wrong link says so as soon as it is opened, before anything is filled in.
    await page.goto('/setup?token=not-the-token');
    const state = page.getByTestId('setup-link-state');
    await state.waitFor();
    expect(await state.getAttribute('data-state')).toBe('invalid');
    expect(await state.textContent()).toContain('restart mainloop');
    expect(await page.getByLabel('Username').count()).toBe(0);
    expect(new URL(page.url()).pathname).toBe('/setup');

    // The real link opens the form. What is wrong is said by the field's name, and each attempt
    // replaces the last one's error.
    await page.goto(`/setup?token=${encodeURIComponent(setupToken)}`);
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByLabel('Repeat password').fill('something else entirely');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    const setupError = page.getByTestId('setup-error');
    await expect.poll(async () => (await setupError.textContent())?.trim()).toBe('The two passwords differ.');
    await page.getByLabel('Username').fill('not a name!');
    await page.getByLabel('Repeat password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await expect
      .poll(async () => (await setupError.textContent())?.trim())
      .toBe('Username may use letters, digits, dot, dash and underscore.');

    // It signs the new owner in and opens the app.
    await page.getByLabel('Username').fill(OWNER.username);
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

    // The set-up link works once: opened again, it says so at once and leads to sign-in.
    await page.goto(`/setup?token=${encodeURIComponent(setupToken)}`);
    await state.waitFor();
    expect(await state.getAttribute('data-state')).toBe('set_up');
    expect(await state.textContent()).toContain('already set up');
    expect(await page.getByLabel('Username').count()).toBe(0);
    await screenshot(page, 'setup-link-used');
    await page.getByRole('link', { name: 'Go to sign in' }).click();
    await page.waitForURL('**/signin');

    // A wrong password shows the server's message; the right one opens the app.
    await page.goto('/signin');
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByTestId('signin-error');
    await error.waitFor();
    const refused = (await error.textContent())?.trim();
    expect(refused).not.toBe('');
    await screenshot(page, 'signin-error');
    // the next attempt clears it as it starts (its answer held back until the error is seen gone)
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/auth/login', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByLabel('Password').fill('still not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => error.count()).toBe(0);
    release();
    await error.waitFor();
    await page.unroute('**/api/auth/login');

    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByTestId('chat-pane').waitFor();
    await context.close();
  });
});
