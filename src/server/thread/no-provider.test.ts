import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../contract/thread.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { settledReply } from './testing.js';

/**
 * No provider configured: what the person writes is still kept, and each reply says in one
 * sentence that no model answered it. What to set and where is said once, by GET /api/providers
 * (the chat's note above the composer and the settings page show it), never in every reply.
 */
let server: TestServer;
let claudeConfigDir: string;

beforeAll(async () => {
  // an empty Claude Code config: no subscription sign-in is found, whatever this machine has
  claudeConfigDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-no-claude-'));
  server = await startTestServer({ env: { CLAUDE_CONFIG_DIR: claudeConfigDir } });
});
afterAll(async () => {
  await server?.close();
  await rm(claudeConfigDir, { recursive: true, force: true });
});

describe('with no model provider', () => {
  it('stores the message and ends its reply in error with one sentence, so Retry works later', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/thread/messages',
      headers: server.authHeaders,
      payload: { content: 'Hello?', clientId: 'no-provider-1' },
    });
    expect(response.statusCode).toBe(202);
    const message = response.json().message as Message;
    expect(message).toMatchObject({ content: 'Hello?', status: 'complete' });

    const reply = await settledReply(server, message.id);
    expect(reply.status).toBe('error');
    expect(reply.content).toBe('');
    expect(reply.error).toBe(
      'No model provider is configured: this message was not answered. Connect one (Settings → Model and workers), then retry.',
    );

    // Retry is offered and runs (and says the same until a provider is connected)
    const retry = await server.app.inject({
      method: 'POST',
      url: `/api/thread/messages/${reply.id}/retry`,
      headers: server.authHeaders,
    });
    expect(retry.statusCode).toBe(202);
    expect((await settledReply(server, message.id)).error).toContain('No model provider is configured');
  });

  it('GET /api/providers says none is active, why, and what to set', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/providers', headers: server.authHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      active: null,
      setting: 'auto',
      summary: expect.stringContaining('No model is connected'),
    });
    for (const what of ['ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', '`claude`']) {
      expect(response.json().summary).toContain(what);
    }
    expect(response.json().providers.every((provider: { available: boolean }) => !provider.available)).toBe(true);
  });
});
