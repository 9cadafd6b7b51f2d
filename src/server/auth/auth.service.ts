import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { Principal } from '../http/request-context.js';
import type { Clock } from '../lib/clock.js';
import { hashSecret, type Ids } from '../lib/ids.js';
import type { ApiTokenRepository } from './api-token.repository.js';
import type { UserRepository } from './user.repository.js';

export const SESSION_COOKIE = 'mainloop_session';
const TOKEN_CACHE_MS = 10_000;

export interface AuthServiceDeps {
  db: Db;
  users: UserRepository;
  tokens: ApiTokenRepository;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

/**
 * Who is calling: a session cookie or an API token. Token lookups are cached for a few seconds
 * (revocation through this instance takes effect at once; through another instance, within
 * TOKEN_CACHE_MS).
 */
export class AuthService {
  private readonly tokenCache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(private readonly deps: AuthServiceDeps) {}

  async authenticate(request: FastifyRequest): Promise<Principal | null> {
    const authorization = request.headers.authorization;
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      return match ? this.authenticateToken(match[1]!) : null;
    }
    return null;
  }

  async authenticateToken(token: string): Promise<Principal | null> {
    const tokenHash = hashSecret(token);
    const now = this.deps.clock.now().getTime();
    const cached = this.tokenCache.get(tokenHash);
    if (cached && cached.until > now) return cached.principal;
    const record = await this.deps.tokens.findActiveByHash(this.deps.db, tokenHash);
    const principal: Principal | null = record ? { userId: record.userId, isOwner: record.isOwner, via: 'token' } : null;
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(tokenHash, { principal, until: now + TOKEN_CACHE_MS });
    if (record && (!record.lastUsedAt || now - record.lastUsedAt.getTime() > 60_000)) {
      await this.deps.tokens.touch(this.deps.db, record.id, new Date(now));
    }
    return principal;
  }

  forgetToken(tokenHash: string): void {
    this.tokenCache.delete(tokenHash);
  }

  /**
   * First start: make sure the owner exists, and that MAINLOOP_API_TOKEN (when set) is their token.
   */
  async bootstrap(options: { apiToken: string | undefined }): Promise<{ ownerId: string }> {
    const { db, users, tokens, ids, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      let owner = await users.findOwner(trx);
      if (!owner) owner = await users.insert(trx, { id: ids.id(), username: 'owner', isOwner: true });
      const tokenHash = options.apiToken ? hashSecret(options.apiToken) : undefined;
      await tokens.revokeEnvTokensExcept(trx, tokenHash, clock.now());
      if (tokenHash) {
        await tokens.insert(trx, { id: ids.id(), userId: owner.id, name: 'MAINLOOP_API_TOKEN', tokenHash, source: 'env' });
      }
      return { ownerId: owner.id };
    });
  }
}
