import { describe, expect, it } from 'vitest';
import { DraftStore } from './draft.js';
import { formatCost, formatTokens, formatUsage } from './format.js';
import { providerNotice } from './providers.js';
import { taskStatusLabel } from './task-status.js';
import { MemoryStorage } from '../state/testing.js';

describe('providerNotice', () => {
  const none = {
    active: null,
    setting: 'auto',
    summary: '',
    providers: [],
    runtimes: [],
    sandbox: { kind: 'bubblewrap' as const, summary: 'Tasks run in bubblewrap.' },
  };

  it('uses the server’s summary, whether a provider is active or not', () => {
    expect(
      providerNotice({
        ...none,
        active: { provider: 'anthropic', model: 'claude-haiku-4-5' },
        summary: 'The main thread uses the Anthropic API, model claude-haiku-4-5.',
      }),
    ).toEqual({ configured: true, text: 'The main thread uses the Anthropic API, model claude-haiku-4-5.' });
    expect(providerNotice({ ...none, setting: 'none', summary: 'No model is connected: set X.' })).toEqual({
      configured: false,
      text: 'No model is connected: set X.',
    });
  });

  it('without a summary, says what to set from the reasons per provider', () => {
    const reason = 'ANTHROPIC_API_KEY is not set. Set ANTHROPIC_API_KEY in mainloop’s environment.';
    expect(providerNotice({ ...none, providers: [{ name: 'anthropic', available: false, reason }] })).toEqual({
      configured: false,
      text: `No model provider is configured. ${reason}`,
    });
    expect(providerNotice(none).text).toContain('ANTHROPIC_API_KEY');
    expect(providerNotice({ ...none, active: { provider: 'openai-compatible', model: null } })).toEqual({
      configured: true,
      text: 'The main thread uses openai-compatible.',
    });
  });
});

describe('usage formatting', () => {
  it('is short', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(250_000)).toBe('250k');
    expect(formatTokens(1_200_000)).toBe('1.2M');
    expect(formatCost(0.0042)).toBe('$0.0042');
    expect(formatCost(0.0006)).toBe('$0.0006');
    expect(formatCost(3.4)).toBe('$3.40');
    expect(formatUsage({ inputTokens: 1200, outputTokens: 340, costUsd: 0.0042 })).toBe('1.2k in · 340 out · $0.0042');
    expect(formatUsage({ inputTokens: 5, outputTokens: 7 })).toBe('5 in · 7 out');
  });
});

describe('taskStatusLabel', () => {
  it('puts a question first', () => {
    expect(taskStatusLabel('implementing')).toEqual({ label: 'implementing', tone: 'active' });
    expect(taskStatusLabel('implementing', true)).toEqual({ label: 'needs you', tone: 'attention' });
    expect(taskStatusLabel('something_new')).toEqual({ label: 'something_new', tone: 'neutral' });
  });
});

describe('DraftStore', () => {
  it('keeps the draft per key and forgets an empty one', () => {
    const storage = new MemoryStorage();
    new DraftStore(storage, 'mainloop.draft.u1').write('half a thought');
    expect(new DraftStore(storage, 'mainloop.draft.u1').read()).toBe('half a thought');
    expect(new DraftStore(storage, 'mainloop.draft.u2').read()).toBe('');
    new DraftStore(storage, 'mainloop.draft.u1').write('  ');
    expect(storage.items.size).toBe(0);
  });
});
