import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** MAINLOOP_MODEL_PROVIDER: a provider, `auto` (the first one available) or `none`. */
export const MODEL_PROVIDER_SETTINGS = [
  'auto',
  'anthropic',
  'openai-compatible',
  'claude-subscription',
  'none',
] as const;
export type ModelProviderSetting = (typeof MODEL_PROVIDER_SETTINGS)[number];

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
  // The main thread's model (src/server/models)
  MAINLOOP_MODEL_PROVIDER: z
    .enum(MODEL_PROVIDER_SETTINGS, {
      message: `MAINLOOP_MODEL_PROVIDER must be one of ${MODEL_PROVIDER_SETTINGS.join(', ')}`,
    })
    .default('auto'),
  MAINLOOP_MODEL: z.string().trim().min(1).optional(),
  ANTHROPIC_API_KEY: z.string().trim().min(1).optional(),
  ANTHROPIC_BASE_URL: httpUrl('ANTHROPIC_BASE_URL must be a URL such as https://api.anthropic.com').optional(),
  OPENAI_BASE_URL: httpUrl('OPENAI_BASE_URL must be a URL such as http://localhost:11434/v1').optional(),
  OPENAI_API_KEY: z.string().trim().min(1).optional(),
  // read only to tell whether the Claude Code CLI is signed in; the CLI reads them itself
  CLAUDE_CODE_OAUTH_TOKEN: z.string().trim().min(1).optional(),
  CLAUDE_CONFIG_DIR: z.string().min(1).optional(),
  // Workers (src/server/workers)
  MAINLOOP_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  MAINLOOP_DEFAULT_RUNTIME: z.enum(['claude-code', 'codex', 'command']).default('claude-code'),
  MAINLOOP_WORKER_MODEL: z.string().trim().min(1).optional(),
  MAINLOOP_CHECK_ROUNDS: z.coerce.number().int().min(1).max(20).default(3),
  MAINLOOP_STEP_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 60 * 60 * 1000),
  MAINLOOP_STUCK_AFTER_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 60 * 1000),
  MAINLOOP_STUCK_LIMIT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 60 * 1000),
  MAINLOOP_SANDBOX: z.enum(['auto', 'none']).default('auto'),
  CODEX_PATH: z.string().min(1).optional(),
  CODEX_BASE_URL: httpUrl('CODEX_BASE_URL must be a URL such as https://api.openai.com/v1').optional(),
  MAINLOOP_CODEX_MODEL: z.string().trim().min(1).optional(),
});

function httpUrl(message: string) {
  return z.url({ protocol: /^https?$/, message });
}

/** A provider chosen by name needs what it cannot work without. */
const MODEL_PROVIDER_NEEDS = { anthropic: 'ANTHROPIC_API_KEY', 'openai-compatible': 'OPENAI_BASE_URL' } as const;

export interface ModelsConfig {
  /** MAINLOOP_MODEL_PROVIDER */
  readonly provider: ModelProviderSetting;
  /** MAINLOOP_MODEL; undefined: the provider's default */
  readonly model: string | undefined;
  readonly anthropic: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
  readonly openaiCompatible: { readonly baseUrl: string | undefined; readonly apiKey: string | undefined };
  readonly claudeCode: {
    /** CLAUDE_CODE_OAUTH_TOKEN */
    readonly oauthToken: string | undefined;
    /** CLAUDE_CONFIG_DIR: where the CLI keeps its sign-in (default ~/.claude) */
    readonly configDir: string | undefined;
  };
}

export interface WorkersConfig {
  /** MAINLOOP_WORKER_CONCURRENCY: agent and check runs at once, across instances */
  readonly concurrency: number;
  /** MAINLOOP_DEFAULT_RUNTIME: a task's runtime when it names none */
  readonly defaultRuntime: 'claude-code' | 'codex' | 'command';
  /** MAINLOOP_WORKER_MODEL: the claude-code model when a task names none */
  readonly model: string | undefined;
  /** MAINLOOP_CHECK_ROUNDS: check runs (a failure goes back to the agent) before the task fails */
  readonly checkRounds: number;
  /** MAINLOOP_STEP_TIMEOUT_MS: the longest one agent or check run may take */
  readonly stepTimeoutMs: number;
  /** MAINLOOP_STUCK_AFTER_MS: silence after which a running step is flagged stuck */
  readonly stuckAfterMs: number;
  /** MAINLOOP_STUCK_LIMIT_MS: silence after which a running step is stopped and the task fails */
  readonly stuckLimitMs: number;
  /** MAINLOOP_SANDBOX: `auto` uses bubblewrap when present, `none` never does */
  readonly sandbox: 'auto' | 'none';
  /** the codex runtime: CODEX_PATH (default `codex` on PATH), OPENAI_API_KEY, CODEX_BASE_URL, MAINLOOP_CODEX_MODEL */
  readonly codex: {
    readonly executable: string | undefined;
    readonly apiKey: string | undefined;
    readonly baseUrl: string | undefined;
    readonly model: string | undefined;
  };
}

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
  /** the main thread's model provider and its settings */
  readonly models: ModelsConfig;
  readonly workers: WorkersConfig;
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
  const modelProvider = values.MAINLOOP_MODEL_PROVIDER;
  if (modelProvider === 'anthropic' || modelProvider === 'openai-compatible') {
    const needed = MODEL_PROVIDER_NEEDS[modelProvider];
    if (!values[needed])
      throw new ConfigError([`${needed}: MAINLOOP_MODEL_PROVIDER is ${modelProvider}, which needs ${needed}`]);
  }
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
    models: Object.freeze({
      provider: modelProvider,
      model: values.MAINLOOP_MODEL,
      anthropic: Object.freeze({ apiKey: values.ANTHROPIC_API_KEY, baseUrl: values.ANTHROPIC_BASE_URL }),
      openaiCompatible: Object.freeze({ baseUrl: values.OPENAI_BASE_URL, apiKey: values.OPENAI_API_KEY }),
      claudeCode: Object.freeze({
        oauthToken: values.CLAUDE_CODE_OAUTH_TOKEN,
        configDir: values.CLAUDE_CONFIG_DIR ? path.resolve(expandHome(values.CLAUDE_CONFIG_DIR)) : undefined,
      }),
    }),
    workers: Object.freeze({
      concurrency: values.MAINLOOP_WORKER_CONCURRENCY,
      defaultRuntime: values.MAINLOOP_DEFAULT_RUNTIME,
      model: values.MAINLOOP_WORKER_MODEL,
      checkRounds: values.MAINLOOP_CHECK_ROUNDS,
      stepTimeoutMs: values.MAINLOOP_STEP_TIMEOUT_MS,
      stuckAfterMs: values.MAINLOOP_STUCK_AFTER_MS,
      stuckLimitMs: values.MAINLOOP_STUCK_LIMIT_MS,
      sandbox: values.MAINLOOP_SANDBOX,
      codex: Object.freeze({
        executable: values.CODEX_PATH,
        apiKey: values.OPENAI_API_KEY,
        baseUrl: values.CODEX_BASE_URL,
        model: values.MAINLOOP_CODEX_MODEL,
      }),
    }),
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
