import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/index.js';
import { drain } from '../../../test/fakes/stream.js';
import { ClaudeSignInProbe, type ClaudeSignIn } from './claude-credentials.js';
import { AnthropicModelClient } from './anthropic.client.js';
import { ClaudeSubscriptionModelClient } from './claude-subscription.client.js';
import { OpenAiCompatibleModelClient } from './openai-compatible.client.js';
import { describeProviders, setUpModels } from './providers.js';
import { RetryingModelClient } from './retrying.client.js';

const signedIn: ClaudeSignIn = { signedIn: true, source: '/home/me/.claude/.credentials.json' };
const signedOut: ClaudeSignIn = {
  signedIn: false,
  looked: ['CLAUDE_CODE_OAUTH_TOKEN', '/home/me/.claude/.credentials.json'],
};

const models = (env: Record<string, string>) => loadConfig(env).models;

describe('choosing the main thread’s provider', () => {
  it('auto prefers the Anthropic API, then an OpenAI-compatible server, then the Claude subscription', () => {
    const everything = { ANTHROPIC_API_KEY: 'sk-ant-x', OPENAI_BASE_URL: 'http://localhost:11434/v1' };
    expect(describeProviders(models(everything), signedIn).active).toBe('anthropic');
    expect(describeProviders(models({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }), signedIn).active).toBe(
      'openai-compatible',
    );
    expect(describeProviders(models({}), signedIn).active).toBe('claude-subscription');
    expect(describeProviders(models({}), signedOut).active).toBe('none');
  });

  it('a provider named in MAINLOOP_MODEL_PROVIDER wins over auto’s order', () => {
    const env = { ANTHROPIC_API_KEY: 'sk-ant-x', MAINLOOP_MODEL_PROVIDER: 'claude-subscription' };
    expect(describeProviders(models(env), signedIn).active).toBe('claude-subscription');
    expect(describeProviders(models({ ...env, MAINLOOP_MODEL_PROVIDER: 'none' }), signedIn).active).toBe('none');
  });

  it('uses a fast Claude model by default, MAINLOOP_MODEL when set, and lets an OpenAI-compatible server pick', () => {
    expect(describeProviders(models({ ANTHROPIC_API_KEY: 'k' }), signedOut).model).toBe('claude-haiku-4-5');
    expect(describeProviders(models({}), signedIn).model).toBe('claude-haiku-4-5');
    expect(
      describeProviders(models({ ANTHROPIC_API_KEY: 'k', MAINLOOP_MODEL: 'claude-sonnet-4-5' }), signedOut).model,
    ).toBe('claude-sonnet-4-5');
    expect(
      describeProviders(models({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }), signedOut).model,
    ).toBeUndefined();
  });

  it('says plainly what to set, and where, when nothing is configured', () => {
    const description = describeProviders(models({}), signedOut);

    expect(description.summary).toBe(
      'No model is connected, so mainloop cannot answer yet. What you write is still saved. To connect one, set in mainloop’s environment and restart: ANTHROPIC_API_KEY for the Anthropic API; or OPENAI_BASE_URL and MAINLOOP_MODEL for Ollama, vLLM or LM Studio; or sign in to Claude Code on this machine (`claude`, then /login) to use a Claude subscription.',
    );
    expect(description.providers).toEqual([
      { name: 'anthropic', available: false, reason: expect.stringContaining('ANTHROPIC_API_KEY is not set') },
      { name: 'openai-compatible', available: false, reason: expect.stringContaining('OPENAI_BASE_URL is not set') },
      {
        name: 'claude-subscription',
        available: false,
        reason: expect.stringContaining(
          'Claude Code is not signed in (looked at CLAUDE_CODE_OAUTH_TOKEN, /home/me/.claude/.credentials.json)',
        ),
      },
    ]);
  });

  it('says how to connect one when MAINLOOP_MODEL_PROVIDER is none', () => {
    const description = describeProviders(models({ MAINLOOP_MODEL_PROVIDER: 'none' }), signedOut);
    expect(description.active).toBe('none');
    expect(description.summary).toMatch(
      /^No model is connected: MAINLOOP_MODEL_PROVIDER is none, so mainloop cannot answer\./,
    );
    expect(description.summary).toContain('set MAINLOOP_MODEL_PROVIDER to auto (or remove it)');
    expect(description.summary).toContain('ANTHROPIC_API_KEY for the Anthropic API');
  });

  it('says which provider is active and why each one is or is not available', () => {
    const description = describeProviders(
      models({ OPENAI_BASE_URL: 'http://gpu-box:8000/v1', OPENAI_API_KEY: 'k', MAINLOOP_MODEL: 'qwen3:8b' }),
      signedIn,
    );

    expect(description).toMatchObject({ setting: 'auto', active: 'openai-compatible', model: 'qwen3:8b' });
    expect(description.summary).toBe(
      'The main thread uses an OpenAI-compatible server at http://gpu-box:8000/v1, model qwen3:8b.',
    );
    expect(description.providers.map((provider) => [provider.name, provider.available, provider.reason])).toEqual([
      ['anthropic', false, expect.stringContaining('ANTHROPIC_API_KEY is not set')],
      [
        'openai-compatible',
        true,
        'OPENAI_BASE_URL is http://gpu-box:8000/v1, with OPENAI_API_KEY; it uses model qwen3:8b.',
      ],
      ['claude-subscription', true, 'Claude Code is signed in (/home/me/.claude/.credentials.json).'],
    ]);
  });

  it('explains a chosen provider that is not available instead of silently using another', () => {
    const description = describeProviders(
      models({ MAINLOOP_MODEL_PROVIDER: 'claude-subscription', OPENAI_BASE_URL: 'http://localhost:11434/v1' }),
      signedOut,
    );

    expect(description.active).toBe('none');
    expect(description.summary).toMatch(
      /^No model is connected: MAINLOOP_MODEL_PROVIDER is claude-subscription, but Claude Code is not signed in .*\/login.*What you write is still saved\.$/,
    );
  });

  it('warns that Claude Code would bill an API key set beside the subscription', () => {
    const description = describeProviders(
      models({ MAINLOOP_MODEL_PROVIDER: 'claude-subscription', ANTHROPIC_API_KEY: 'sk-ant-x' }),
      signedIn,
    );
    expect(description.providers[2]?.reason).toContain('Claude Code would bill that key rather than the subscription');
  });
});

describe('the model settings in the configuration', () => {
  it('rejects a provider that does not exist, naming the variable', () => {
    expect(() => loadConfig({ MAINLOOP_MODEL_PROVIDER: 'gpt' })).toThrow(
      /MAINLOOP_MODEL_PROVIDER must be one of auto, anthropic, openai-compatible, claude-subscription, none/,
    );
  });

  it('fails at start when a provider chosen by name lacks what it needs', () => {
    expect(() => loadConfig({ MAINLOOP_MODEL_PROVIDER: 'anthropic' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAINLOOP_MODEL_PROVIDER: 'anthropic' })).toThrow(
      /ANTHROPIC_API_KEY: MAINLOOP_MODEL_PROVIDER is anthropic, which needs ANTHROPIC_API_KEY/,
    );
    expect(() => loadConfig({ MAINLOOP_MODEL_PROVIDER: 'openai-compatible' })).toThrow(/needs OPENAI_BASE_URL/);
  });

  it('rejects base URLs that are not URLs', () => {
    expect(() => loadConfig({ ANTHROPIC_BASE_URL: 'api.anthropic.com' })).toThrow(/ANTHROPIC_BASE_URL must be a URL/);
    expect(() => loadConfig({ OPENAI_BASE_URL: 'localhost:11434' })).toThrow(/OPENAI_BASE_URL must be a URL/);
  });

  it('defaults to auto, with every model setting unset', () => {
    expect(models({})).toEqual({
      provider: 'auto',
      model: undefined,
      anthropic: { apiKey: undefined, baseUrl: undefined },
      openaiCompatible: { baseUrl: undefined, apiKey: undefined },
      claudeCode: { oauthToken: undefined, configDir: undefined },
    });
  });
});

describe('setUpModels', () => {
  const probe = (result: ClaudeSignIn) => ({ detect: async () => result });

  it('builds the active provider’s client, with retries', async () => {
    const anthropic = await setUpModels(loadConfig({ ANTHROPIC_API_KEY: 'k' }), { claudeSignIn: probe(signedOut) });
    expect(anthropic.client).toBeInstanceOf(RetryingModelClient);
    expect(anthropic.client).toMatchObject({ provider: 'anthropic', defaultModel: 'claude-haiku-4-5' });
    expect((anthropic.client as unknown as { inner: unknown }).inner).toBeInstanceOf(AnthropicModelClient);

    const local = await setUpModels(loadConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }), {
      claudeSignIn: probe(signedOut),
    });
    expect((local.client as unknown as { inner: unknown }).inner).toBeInstanceOf(OpenAiCompatibleModelClient);

    const subscription = await setUpModels(loadConfig({}), { claudeSignIn: probe(signedIn) });
    expect((subscription.client as unknown as { inner: unknown }).inner).toBeInstanceOf(ClaudeSubscriptionModelClient);
  });

  it('without a provider, every request fails as not_configured with the plain explanation', async () => {
    const { providers, client } = await setUpModels(loadConfig({}), { claudeSignIn: probe(signedOut) });

    const { events, error } = await drain(client.stream({ system: '', messages: [{ role: 'user', content: 'hi' }] }));

    expect(events).toEqual([]);
    expect(error).toMatchObject({ kind: 'not_configured', retryable: false, message: providers.summary });
  });
});

describe('ClaudeSignInProbe', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'mainloop-probe-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('finds a sign-in in <CLAUDE_CONFIG_DIR or ~/.claude>/.credentials.json, and only a real one', async () => {
    const probe = new ClaudeSignInProbe({ homeDir: home, platform: 'linux' });
    expect(await probe.detect()).toEqual({
      signedIn: false,
      looked: ['CLAUDE_CODE_OAUTH_TOKEN', path.join(home, '.claude', '.credentials.json')],
    });

    await mkdir(path.join(home, '.claude'));
    await writeFile(path.join(home, '.claude', '.credentials.json'), JSON.stringify({ mcpOAuth: {} }));
    expect((await probe.detect()).signedIn).toBe(false);

    const credentials = { claudeAiOauth: { accessToken: 'sk-ant-oat01-x', refreshToken: 'r', expiresAt: 1 } };
    await writeFile(path.join(home, '.claude', '.credentials.json'), JSON.stringify(credentials));
    expect(await probe.detect()).toEqual({ signedIn: true, source: path.join(home, '.claude', '.credentials.json') });

    const elsewhere = path.join(home, 'claude-config');
    expect(
      (await new ClaudeSignInProbe({ homeDir: home, configDir: elsewhere, platform: 'linux' }).detect()).signedIn,
    ).toBe(false);
  });

  it('takes CLAUDE_CODE_OAUTH_TOKEN as a sign-in', async () => {
    expect(await new ClaudeSignInProbe({ oauthToken: 'sk-ant-oat01-x', homeDir: home }).detect()).toEqual({
      signedIn: true,
      source: 'CLAUDE_CODE_OAUTH_TOKEN',
    });
  });
});
