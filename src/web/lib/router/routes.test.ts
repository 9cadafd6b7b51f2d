import { describe, expect, it } from 'vitest';
import type { User } from '../../../contract/index.js';
import { isRouterClick, matchRoute, redirectFor, routeParams, taskPath } from './routes.js';

const user: User = { id: 'u1', username: 'ada', isOwner: true, createdAt: '2025-01-01T00:00:00Z' };
const at = (url: string) => {
  const parsed = new URL(url, 'http://localhost');
  return { pathname: parsed.pathname, search: parsed.search };
};

describe('matchRoute', () => {
  it('knows the four pages, with or without a trailing slash', () => {
    expect(matchRoute('/')).toBe('home');
    expect(matchRoute('/signin')).toBe('signin');
    expect(matchRoute('/setup/')).toBe('setup');
    expect(matchRoute('/settings')).toBe('settings');
    expect(matchRoute('/nope')).toBeUndefined();
  });

  it('knows a task’s page by its id, and only with one', () => {
    expect(matchRoute('/tasks/abc123')).toBe('task');
    expect(routeParams('/tasks/abc123/')).toEqual({ id: 'abc123' });
    expect(routeParams(taskPath('a/b c'))).toEqual({ id: 'a/b c' });
    expect(matchRoute('/tasks')).toBeUndefined();
    expect(matchRoute('/tasks/')).toBeUndefined();
    expect(matchRoute('/tasks/a/b')).toBeUndefined();
    expect(matchRoute('/tasks/%E0%A4%A')).toBeUndefined();
    expect(routeParams('/settings')).toEqual({});
  });
});

describe('redirectFor', () => {
  const signedOut = { user: null, setupRequired: false };
  const needsSetup = { user: null, setupRequired: true };
  const signedIn = { user, setupRequired: false };

  it('sends a signed-out person to sign-in from anywhere', () => {
    expect(redirectFor(at('/'), signedOut)).toBe('/signin');
    expect(redirectFor(at('/settings'), signedOut)).toBe('/signin');
    expect(redirectFor(at('/signin'), signedOut)).toBeUndefined();
  });

  it('keeps a set-up token, moving it to the set-up page', () => {
    expect(redirectFor(at('/setup?token=abc'), signedOut)).toBeUndefined();
    expect(redirectFor(at('/?token=a+b'), signedOut)).toBe('/setup?token=a%20b');
  });

  it('shows the set-up page while no owner exists', () => {
    expect(redirectFor(at('/'), needsSetup)).toBe('/setup');
    expect(redirectFor(at('/signin'), needsSetup)).toBe('/setup');
    expect(redirectFor(at('/setup'), needsSetup)).toBeUndefined();
  });

  it('sends a signed-in person away from sign-in, set-up and unknown paths', () => {
    expect(redirectFor(at('/signin'), signedIn)).toBe('/');
    expect(redirectFor(at('/setup?token=x'), signedIn)).toBe('/');
    expect(redirectFor(at('/nope'), signedIn)).toBe('/');
    expect(redirectFor(at('/settings'), signedIn)).toBeUndefined();
    expect(redirectFor(at('/tasks/t1'), signedIn)).toBeUndefined();
    expect(redirectFor(at('/'), signedIn)).toBeUndefined();
  });
});

describe('isRouterClick', () => {
  const click = { button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, defaultPrevented: false };
  const anchor = (href: string, target = '', attributes: string[] = []) => ({
    href,
    target,
    hasAttribute: (name: string) => attributes.includes(name),
  });
  const origin = 'http://localhost:3000';

  it('takes plain same-origin app links', () => {
    expect(isRouterClick(click, anchor('http://localhost:3000/settings'), origin)).toBe(true);
  });

  it('leaves other origins, /api, new tabs, modified clicks and downloads to the browser', () => {
    expect(isRouterClick(click, anchor('https://example.com/'), origin)).toBe(false);
    expect(isRouterClick(click, anchor('http://localhost:3000/api/docs'), origin)).toBe(false);
    expect(isRouterClick(click, anchor('http://localhost:3000/', '_blank'), origin)).toBe(false);
    expect(isRouterClick({ ...click, metaKey: true }, anchor('http://localhost:3000/'), origin)).toBe(false);
    expect(isRouterClick({ ...click, button: 1 }, anchor('http://localhost:3000/'), origin)).toBe(false);
    expect(isRouterClick(click, anchor('http://localhost:3000/x.zip', '', ['download']), origin)).toBe(false);
  });
});
