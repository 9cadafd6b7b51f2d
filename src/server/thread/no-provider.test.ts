import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../contract/thread.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { settledReply } from './testing.js';

/** No provider configured: what the person writes is still kept, and the thread says what to set and where. */
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
  it('stores the message and answers with a plain explanation of what to set, in error so Retry works later', async () => {
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
    expect(reply.content).toContain('No model is connected');
    expect(reply.content).toContain('ANTHROPIC_API_KEY');
    expect(reply.content).toContain('OPENAI_BASE_URL');
    expect(reply.content).toContain('claude');
    expect(reply.content).toContain('Retry');
    expect(reply.error).toContain('No model provider is configured');

    // Retry is offered and runs (and says the same until a provider is connected)
    const retry = await server.app.inject({
      method: 'POST',
      url: `/api/thread/messages/${reply.id}/retry`,
      headers: server.authHeaders,
    });
    expect(retry.statusCode).toBe(202);
    expect((await settledReply(server, message.id)).content).toContain('No model is connected');
  });

  it('GET /api/providers says none is active and why', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/providers', headers: server.authHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      active: null,
      setting: 'auto',
      summary: expect.stringContaining('No model is connected'),
    });
    expect(response.json().providers.every((provider: { available: boolean }) => !provider.available)).toBe(true);
  });
});
