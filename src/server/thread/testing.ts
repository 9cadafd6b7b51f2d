/**
 * Helpers for the thread's and tasks' tests (not used by the server): an SSE client of
 * GET /api/events, a second user with a token, and waiting for a reply to end.
 */
import { expect, vi } from 'vitest';
import { SseFrameParser } from '../../contract/events.js';
import type { Message } from '../../contract/thread.js';
import type { TestServer } from '../../../test/support/server.js';
import { ApiTokenRepository, UserRepository } from '../auth/index.js';
import { hashSecret } from '../lib/ids.js';
import { MessageRepository, toMessage } from './message.repository.js';

export interface ReceivedEvent {
  id: string;
  type: string;
  data: unknown;
  /** performance.now() when it arrived */
  at: number;
}

/** A client of GET /api/events over real HTTP, keeping every event it reads. */
export class EventStreamClient {
  readonly events: ReceivedEvent[] = [];
  private constructor(private readonly controller: AbortController) {}

  static async open(
    server: TestServer,
    headers: Record<string, string> = server.authHeaders,
  ): Promise<EventStreamClient> {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/events`, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    const client = new EventStreamClient(controller);
    let ready!: () => void;
    const opened = new Promise<void>((resolve) => (ready = resolve));
    void (async () => {
      const parser = new SseFrameParser();
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body!) {
          for (const frame of parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }))) {
            if (frame.id !== undefined && frame.event === undefined) ready(); // the stream says where it starts
            if (frame.event && frame.data !== undefined) {
              client.events.push({
                id: frame.id!,
                type: frame.event,
                data: JSON.parse(frame.data),
                at: performance.now(),
              });
            }
          }
        }
      } catch {
        // closed by the test
      }
    })();
    await opened;
    return client;
  }

  /** The events about one message (created, deltas, completed), in order. */
  about(messageId: string): ReceivedEvent[] {
    return this.events.filter((event) => {
      const data = event.data as { messageId?: string; message?: { id?: string } };
      return data.messageId === messageId || data.message?.id === messageId;
    });
  }

  async waitFor(predicate: (events: ReceivedEvent[]) => boolean, timeout = 15_000): Promise<void> {
    await vi.waitFor(() => expect(predicate(this.events)).toBe(true), { timeout, interval: 20 });
  }

  close(): void {
    this.controller.abort();
  }
}

/** Another user, with a bearer token; answers the headers that authenticate as them. */
export async function addUser(
  server: TestServer,
  name: string,
): Promise<{ userId: string; headers: { authorization: string } }> {
  const db = server.database.db;
  const userId = `user-${name}`;
  const token = `${name}-token-0123456789abcdef`;
  await new UserRepository().insert(db, { id: userId, username: name, isOwner: false });
  await new ApiTokenRepository().insert(db, {
    id: `token-${name}`,
    userId,
    name,
    tokenHash: hashSecret(token),
    source: 'user',
  });
  return { userId, headers: { authorization: `Bearer ${token}` } };
}

export async function ownerIdOf(server: TestServer): Promise<string> {
  return (await new UserRepository().findOwner(server.database.db))!.id;
}

/** The reply to a user message once it is no longer streaming. */
export async function settledReply(server: TestServer, userMessageId: string, timeout = 20_000): Promise<Message> {
  const messages = new MessageRepository();
  let reply: Message | undefined;
  await vi.waitFor(
    async () => {
      const row = await server.database.db
        .selectFrom('messages')
        .select(['id', 'user_id'])
        .where('reply_to', '=', userMessageId)
        .where('status', '<>', 'streaming')
        .executeTakeFirst();
      expect(row, `the reply to message ${userMessageId} is still streaming`).toBeDefined();
      reply = toMessage((await messages.findById(server.database.db, row!.user_id, String(row!.id)))!);
    },
    { timeout, interval: 25 },
  );
  return reply!;
}
