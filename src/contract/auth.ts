import { z } from 'zod';

export const User = z.object({
  id: z.string(),
  username: z.string(),
  isOwner: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const Username = z
  .string()
  .trim()
  .min(1, 'username is required')
  .max(64, 'username is at most 64 characters')
  .regex(/^[a-zA-Z0-9._-]+$/, 'username may use letters, digits, dot, dash and underscore');
export const Password = z
  .string()
  .min(8, 'password must be at least 8 characters')
  .max(1024, 'password is at most 1024 characters');

/** GET /api/auth/session */
export const SessionInfo = z.object({
  user: User.nullable(),
  /** true while no owner has set a password: the set-up link is the way in */
  setupRequired: z.boolean(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** POST /api/auth/setup: the one-time set-up link's token, and the owner's chosen credentials */
export const SetupRequest = z.object({
  token: z.string().min(1, 'the set-up token is required'),
  username: Username,
  password: Password,
});
export type SetupRequest = z.infer<typeof SetupRequest>;

/** POST /api/auth/setup/check: whether a set-up link still works, asked when it is opened */
export const SetupLinkCheckRequest = z.object({ token: z.string().min(1, 'the set-up token is required') });
export const SetupLinkStatus = z.object({
  /** `valid`: the form may be filled in; `set_up`: mainloop has its owner (sign in); `expired` or `invalid`: a new link is needed */
  state: z.enum(['valid', 'set_up', 'expired', 'invalid']),
  /** what to do, for a person */
  message: z.string(),
});
export type SetupLinkStatus = z.infer<typeof SetupLinkStatus>;

/** POST /api/auth/login */
export const LoginRequest = z.object({
  username: Username,
  password: z.string().min(1, 'password is required').max(1024),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

export const CreateTokenRequest = z.object({
  name: z.string().trim().min(1, 'name is required').max(100, 'name is at most 100 characters'),
});
/** POST /api/tokens → 201: `token` is the secret, shown this once */
export const CreateTokenResponse = z.object({ token: z.string(), apiToken: ApiToken });
export type CreateTokenResponse = z.infer<typeof CreateTokenResponse>;

/** POST /api/auth/setup and POST /api/auth/login: the signed-in user (the session is in the cookie) */
export const SignedInResponse = z.object({ user: User });
export type SignedInResponse = z.infer<typeof SignedInResponse>;

/** GET /api/tokens */
export const TokenList = z.object({ tokens: z.array(ApiToken) });
export type TokenList = z.infer<typeof TokenList>;

export const TokenIdParams = z.object({ id: z.string().min(1, 'id is required') });
