import webpush from 'web-push';
import type { Db } from '../db/database.js';

export interface VapidKeyPair {
  /** base64url, uncompressed P-256 point (65 bytes): the browser's applicationServerKey */
  publicKey: string;
  /** base64url, 32 bytes */
  privateKey: string;
}

const KEY_NAME = 'vapid';

/**
 * The server's VAPID key pair (RFC 8292), made once and kept in `server_keys`: a device's
 * subscription is bound to this public key, so it must survive restarts (and be shared by every
 * instance on one database). Two instances starting together make one pair: the first insert wins.
 */
export class VapidKeyStore {
  private loading: Promise<VapidKeyPair> | undefined;

  constructor(private readonly db: Db) {}

  get(): Promise<VapidKeyPair> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<VapidKeyPair> {
    const stored = await this.read();
    if (stored) return stored;
    const made = webpush.generateVAPIDKeys();
    await this.db
      .insertInto('server_keys')
      .values({ name: KEY_NAME, value: JSON.stringify({ publicKey: made.publicKey, privateKey: made.privateKey }) })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const kept = await this.read();
    if (!kept) throw new Error('the VAPID key pair could not be stored');
    return kept;
  }

  private async read(): Promise<VapidKeyPair | undefined> {
    const row = await this.db.selectFrom('server_keys').select('value').where('name', '=', KEY_NAME).executeTakeFirst();
    const value = row?.value as Partial<VapidKeyPair> | undefined;
    return value?.publicKey && value.privateKey
      ? { publicKey: value.publicKey, privateKey: value.privateKey }
      : undefined;
  }
}
