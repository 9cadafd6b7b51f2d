import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  LoginRequest,
  SessionInfo,
  SetupLinkCheckRequest,
  SetupLinkStatus,
  SetupRequest,
  SignedInResponse,
} from '../../contract/auth.js';
import type { RoutePlugin } from '../http/app.js';
import type { AuthService, NewSession } from './auth.service.js';
import { readCredentials, SESSION_COOKIE } from './credentials.js';
import type { SetupService } from './setup.service.js';
import { setupLinkCheckLimit, signInLimit } from './sign-in-limit.js';

/** httpOnly (no script reads it), SameSite=Lax, Secure whenever the request came over https. */
const COOKIE_OPTIONS = { httpOnly: true, sameSite: 'lax', path: '/', secure: 'auto' } as const;

/** POST /api/auth/setup · POST /api/auth/setup/check · POST /api/auth/login · POST /api/auth/logout · GET /api/auth/session (all public). */
export function authRoutes(services: { auth: AuthService; setup: SetupService }): RoutePlugin {
  const { auth, setup } = services;
  return (api) => {
    const limitSignIn = signInLimit(api);
    api.post(
      '/auth/setup',
      {
        config: { public: true },
        preHandler: limitSignIn,
        schema: {
          tags: ['auth'],
          summary: 'Finish set-up with the one-time link: choose the owner’s username and password, and sign in',
          body: SetupRequest,
          response: { 200: SignedInResponse },
        },
      },
      async (request, reply) => {
        const { user, session } = await setup.completeSetup({
          ...request.body,
          userAgent: request.headers['user-agent'],
        });
        setSessionCookie(reply, session);
        return { user };
      },
    );

    api.post(
      '/auth/setup/check',
      {
        config: { public: true },
        preHandler: setupLinkCheckLimit(api),
        schema: {
          tags: ['auth'],
          summary:
            'Whether a set-up link still works (asked when it is opened): valid, set up already, expired or invalid, with what to do',
          body: SetupLinkCheckRequest,
          response: { 200: SetupLinkStatus },
        },
      },
      async (request) => setup.checkLink(request.body.token),
    );

    api.post(
      '/auth/login',
      {
        config: { public: true },
        preHandler: limitSignIn,
        schema: {
          tags: ['auth'],
          summary: 'Sign in with username and password (sets the session cookie)',
          body: LoginRequest,
          response: { 200: SignedInResponse },
        },
      },
      async (request, reply) => {
        const { user, session } = await auth.login({ ...request.body, userAgent: request.headers['user-agent'] });
        setSessionCookie(reply, session);
        return { user };
      },
    );

    api.post(
      '/auth/logout',
      {
        config: { public: true },
        schema: { tags: ['auth'], summary: 'Sign out: ends the cookie’s session', response: { 204: z.undefined() } },
      },
      async (request, reply) => {
        await auth.logout(readCredentials(request));
        return reply.clearCookie(SESSION_COOKIE, COOKIE_OPTIONS).status(204).send();
      },
    );

    api.get(
      '/auth/session',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary: 'Who is signed in (null for nobody), and whether set-up is still to be done',
          response: { 200: SessionInfo },
        },
      },
      async (request, reply) => {
        const { info, sessionExpiresAt, staleCookie } = await auth.sessionInfo(readCredentials(request));
        // The web app asks this at every load: the cookie follows the session's sliding expiry.
        const secret = request.cookies[SESSION_COOKIE];
        if (sessionExpiresAt && secret) {
          reply.setCookie(SESSION_COOKIE, secret, { ...COOKIE_OPTIONS, expires: sessionExpiresAt });
        }
        if (staleCookie) reply.clearCookie(SESSION_COOKIE, COOKIE_OPTIONS);
        return info;
      },
    );
  };
}

function setSessionCookie(reply: FastifyReply, session: NewSession): void {
  reply.setCookie(SESSION_COOKIE, session.secret, { ...COOKIE_OPTIONS, expires: session.expiresAt });
}
