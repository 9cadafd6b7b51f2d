import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('reads defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', trustProxy: false, logLevel: 'info' });
    expect(config.workers).toMatchObject({ concurrency: 4, defaultRuntime: 'claude-code', sandbox: 'bubblewrap' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads numbers, switches and URLs, treating an empty value as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '',
      MAINLOOP_TRUST_PROXY: '1',
      MAINLOOP_EVENT_RETENTION_DAYS: '0.5',
      DATABASE_URL: ' postgres://user@db.example/mainloop ',
      MAINLOOP_PUBLIC_URL: 'https://mainloop.example.com/',
      MAINLOOP_VAPID_SUBJECT: ' mailto:me@example.com ',
      MAINLOOP_MODEL: '  claude-sonnet  ',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      trustProxy: true,
      eventRetentionDays: 0.5,
      databaseUrl: 'postgres://user@db.example/mainloop',
      publicUrl: 'https://mainloop.example.com',
      vapidSubject: 'mailto:me@example.com',
    });
    expect(config.models.model).toBe('claude-sonnet');
  });

  it('names every bad variable at once, and never echoes a secret', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        MAINLOOP_WORKER_CONCURRENCY: '1.5',
        LOG_LEVEL: 'loud',
        MAINLOOP_API_TOKEN: 'short-secret',
        MAINLOOP_PUBLIC_URL: 'mainloop.example.com',
        MAINLOOP_VAPID_SUBJECT: 'me@example.com',
        MAINLOOP_EXECUTOR_ID: 'my laptop',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'PORT: must be a whole number from 0 to 65535, not "eighty"',
      'MAINLOOP_API_TOKEN: MAINLOOP_API_TOKEN must be at least 16 characters',
      'MAINLOOP_PUBLIC_URL: MAINLOOP_PUBLIC_URL must be a URL such as https://mainloop.example.com',
      'MAINLOOP_VAPID_SUBJECT: MAINLOOP_VAPID_SUBJECT must be a mailto: address or an https:// URL, such as mailto:you@example.com',
      'MAINLOOP_EXECUTOR_ID: must be letters, digits and . _ : - (at most 64), such as mainloop-2',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, not "loud"',
      'MAINLOOP_WORKER_CONCURRENCY: must be a whole number from 1 to 100, not "1.5"',
    ]);
    expect((error as ConfigError).message).not.toContain('short-secret');
  });
});
