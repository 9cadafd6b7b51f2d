import type { ApiToken, CreateTokenResponse } from '../../contract/auth.js';
import type { Db } from '../db/database.js';
import { notFound } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { hashSecret, type Ids } from '../lib/ids.js';
import type { ApiTokenRecord, ApiTokenRepository } from './api-token.repository.js';
import type { AuthService } from './auth.service.js';

/** Every token secret starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const API_TOKEN_PREFIX = 'ml_';

export interface ApiTokenServiceDeps {
  db: Db;
  tokens: ApiTokenRepository;
  auth: Pick<AuthService, 'forgetToken'>;
  clock: Clock;
  ids: Ids;
}

/** A person's API tokens for the CLI and scripts: the secret is shown once, only its hash is kept. */
export class ApiTokenService {
  constructor(private readonly deps: ApiTokenServiceDeps) {}

  async list(userId: string): Promise<ApiToken[]> {
    return (await this.deps.tokens.listForUser(this.deps.db, userId)).map(toApiToken);
  }

  async create(userId: string, name: string): Promise<CreateTokenResponse> {
    const { db, tokens, ids } = this.deps;
    const token = ids.secret(API_TOKEN_PREFIX);
    const record = await tokens.insert(db, {
      id: ids.id(),
      userId,
      name,
      tokenHash: hashSecret(token),
      source: 'user',
    });
    return { token, apiToken: toApiToken(record) };
  }

  /** Another user's token, or one already revoked, is not found. */
  async revoke(userId: string, id: string): Promise<void> {
    const { db, tokens, clock, auth } = this.deps;
    const revoked = await tokens.revoke(db, userId, id, clock.now());
    if (!revoked) throw notFound(`API token ${id}`);
    auth.forgetToken(revoked.tokenHash);
  }
}

function toApiToken(record: ApiTokenRecord): ApiToken {
  return {
    id: record.id,
    name: record.name,
    createdAt: record.createdAt.toISOString(),
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
  };
}
