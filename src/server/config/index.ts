import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The one place that reads process.env. Parsed and validated at start-up, typed and frozen.
 * An explicit option beats an environment variable beats a default.
 */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  MAINLOOP_DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgres:// URL').optional(),
  MAINLOOP_API_TOKEN: z.string().min(16, 'MAINLOOP_API_TOKEN must be at least 16 characters').optional(),
  MAINLOOP_PUBLIC_URL: z
    .string()
    .url('MAINLOOP_PUBLIC_URL must be a URL such as https://mainloop.example.com')
    .optional(),
  MAINLOOP_EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  MAINLOOP_EVENT_RETENTION_DAYS: z.coerce.number().positive().default(30),
  MAINLOOP_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
  MAINLOOP_TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  readonly version: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Set when an external Postgres is used; otherwise the embedded one under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly embeddedPostgresPort: number | undefined;
  readonly apiToken: string | undefined;
  /** The address people reach this server at, for links (the set-up link); defaults to http://HOST:PORT. */
  readonly publicUrl: string | undefined;
  readonly eventRetentionDays: number;
  readonly bodyLimitBytes: number;
  readonly trustProxy: boolean;
  readonly logLevel: z.infer<typeof Env>['LOG_LEVEL'];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`mainloop cannot start: its configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = Env.safeParse(stripEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const values = parsed.data;
  const config: Config = {
    version: readVersion(),
    port: values.PORT,
    host: values.HOST,
    dataDir: path.resolve(expandHome(values.MAINLOOP_DATA_DIR ?? '~/.mainloop')),
    databaseUrl: values.DATABASE_URL,
    embeddedPostgresPort: values.MAINLOOP_EMBEDDED_PG_PORT,
    apiToken: values.MAINLOOP_API_TOKEN,
    publicUrl: values.MAINLOOP_PUBLIC_URL?.replace(/\/+$/, ''),
    eventRetentionDays: values.MAINLOOP_EVENT_RETENTION_DAYS,
    bodyLimitBytes: values.MAINLOOP_BODY_LIMIT_BYTES,
    trustProxy: values.MAINLOOP_TRUST_PROXY,
    logLevel: values.LOG_LEVEL,
    ...overrides,
  };
  return Object.freeze(config);
}

/** `FOO=` in a shell or an .env file means "not set", not "set to the empty string". */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => !!entry[1]));
}

function expandHome(value: string): string {
  return value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value;
}

let version: string | undefined;
function readVersion(): string {
  if (version) return version;
  // Works from src/ (tsx) and from the bundle in dist/: walk up to the package root.
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'mainloop' && manifest.version) return (version = manifest.version);
    } catch {
      // not here: keep walking up
    }
    const parent = path.dirname(directory);
    if (parent === directory) return (version = '0.0.0');
    directory = parent;
  }
}
