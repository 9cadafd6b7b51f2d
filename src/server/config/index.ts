import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** MAINLOOP_MODEL_PROVIDER: a provider, `auto` (the first one available) or `none`. */
export const MODEL_PROVIDER_SETTINGS = [
  'auto',
  'anthropic',
  'openai-compatible',
  'claude-subscription',
  'none',
] as const;
export type ModelProviderSetting = (typeof MODEL_PROVIDER_SETTINGS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The one place that reads process.env. Parsed and validated at start-up, typed and frozen.
 * An explicit option beats an environment variable beats a default.
 *
 * Plain checks rather than a zod schema: this runs before the embedded Postgres is spawned, and
 * zod (most of a megabyte of code) would delay that; it loads beside Postgres starting instead.
 */
function parseEnv(env: Record<string, string>) {
  const read = new EnvReader(env);
  const values = {
    PORT: read.integer('PORT', { min: 0, max: 65535, default: 3000 }),
    HOST: read.string('HOST') ?? '127.0.0.1',
    MAINLOOP_DATA_DIR: read.string('MAINLOOP_DATA_DIR'),
    DATABASE_URL: read.url('DATABASE_URL', 'DATABASE_URL must be a postgres:// URL'),
    MAINLOOP_API_TOKEN: read.string('MAINLOOP_API_TOKEN', {
      minLength: 16,
      message: 'MAINLOOP_API_TOKEN must be at least 16 characters',
    }),
    MAINLOOP_PUBLIC_URL: read.url(
      'MAINLOOP_PUBLIC_URL',
      'MAINLOOP_PUBLIC_URL must be a URL such as https://mainloop.example.com',
    ),
    MAINLOOP_VAPID_SUBJECT: read.vapidSubject('MAINLOOP_VAPID_SUBJECT'),
    MAINLOOP_EMBEDDED_PG_PORT: read.integer('MAINLOOP_EMBEDDED_PG_PORT', { min: 0, max: 65535 }),
    MAINLOOP_DB_CONNECT_TIMEOUT_MS: read.integer('MAINLOOP_DB_CONNECT_TIMEOUT_MS', { min: 100, default: 5_000 }),
    MAINLOOP_DB_STATEMENT_TIMEOUT_MS: read.integer('MAINLOOP_DB_STATEMENT_TIMEOUT_MS', { min: 100, default: 30_000 }),
    MAINLOOP_EXECUTOR_ID: read.executorId('MAINLOOP_EXECUTOR_ID') ?? 'local',
    MAINLOOP_EVENT_RETENTION_DAYS: read.number('MAINLOOP_EVENT_RETENTION_DAYS', { positive: true, default: 30 }),
    MAINLOOP_BODY_LIMIT_BYTES: read.integer('MAINLOOP_BODY_LIMIT_BYTES', { min: 1, default: 1_048_576 }),
    MAINLOOP_TRUST_PROXY: ['true', '1'].includes(read.oneOf('MAINLOOP_TRUST_PROXY', ['true', 'false', '1', '0']) ?? ''),
    LOG_LEVEL: read.oneOf('LOG_LEVEL', LOG_LEVELS) ?? 'info',
    LOG_FORMAT: read.oneOf('LOG_FORMAT', ['json', 'pretty']),
    // The main thread's model (src/server/models)
    MAINLOOP_MODEL_PROVIDER:
      read.oneOf(
        'MAINLOOP_MODEL_PROVIDER',
        MODEL_PROVIDER_SETTINGS,
        `MAINLOOP_MODEL_PROVIDER must be one of ${MODEL_PROVIDER_SETTINGS.join(', ')}`,
      ) ?? 'auto',
    MAINLOOP_MODEL: read.trimmed('MAINLOOP_MODEL'),
    ANTHROPIC_API_KEY: read.trimmed('ANTHROPIC_API_KEY'),
    ANTHROPIC_BASE_URL: read.httpUrl(
      'ANTHROPIC_BASE_URL',
      'ANTHROPIC_BASE_URL must be a URL such as https://api.anthropic.com',
    ),
    OPENAI_BASE_URL: read.httpUrl('OPENAI_BASE_URL', 'OPENAI_BASE_URL must be a URL such as http://localhost:11434/v1'),
    OPENAI_API_KEY: read.trimmed('OPENAI_API_KEY'),
    // read only to tell whether the Claude Code CLI is signed in; the CLI reads them itself
    CLAUDE_CODE_OAUTH_TOKEN: read.trimmed('CLAUDE_CODE_OAUTH_TOKEN'),
    CLAUDE_CONFIG_DIR: read.string('CLAUDE_CONFIG_DIR'),
    // Workers (src/server/workers)
    MAINLOOP_WORKER_CONCURRENCY: read.integer('MAINLOOP_WORKER_CONCURRENCY', { min: 1, max: 100, default: 4 }),
    MAINLOOP_DEFAULT_RUNTIME:
      read.oneOf('MAINLOOP_DEFAULT_RUNTIME', ['claude-code', 'codex', 'command']) ?? 'claude-code',
    MAINLOOP_WORKER_MODEL: read.trimmed('MAINLOOP_WORKER_MODEL'),
    MAINLOOP_CHECK_ROUNDS: read.integer('MAINLOOP_CHECK_ROUNDS', { min: 1, max: 20, default: 3 }),
    MAINLOOP_STEP_TIMEOUT_MS: read.integer('MAINLOOP_STEP_TIMEOUT_MS', { min: 1, default: 2 * 60 * 60 * 1000 }),
    MAINLOOP_STUCK_AFTER_MS: read.integer('MAINLOOP_STUCK_AFTER_MS', { min: 1, default: 10 * 60 * 1000 }),
    MAINLOOP_STUCK_LIMIT_MS: read.integer('MAINLOOP_STUCK_LIMIT_MS', { min: 1, default: 30 * 60 * 1000 }),
    // `auto` (what earlier versions took) now means bubblewrap too: no task runs unconfined unless told.
    MAINLOOP_SANDBOX:
      read.oneOf('MAINLOOP_SANDBOX', ['bubblewrap', 'auto', 'none']) === 'none'
        ? ('none' as const)
        : ('bubblewrap' as const),
    MAINLOOP_SANDBOX_READ_ONLY: (read.string('MAINLOOP_SANDBOX_READ_ONLY') ?? '')
      .split(':')
      .filter((entry) => entry.trim())
      .map((entry) => path.resolve(expandHome(entry.trim()))),
    CODEX_PATH: read.string('CODEX_PATH'),
    CODEX_BASE_URL: read.httpUrl('CODEX_BASE_URL', 'CODEX_BASE_URL must be a URL such as https://api.openai.com/v1'),
    MAINLOOP_CODEX_MODEL: read.trimmed('MAINLOOP_CODEX_MODEL'),
  };
  if (read.problems.length) throw new ConfigError(read.problems);
  return values;
}

/** Reads one variable at a time; a bad value is noted (with its name) and read as unset. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Record<string, string>) {}

  string(name: string, rule: { minLength?: number; message?: string } = {}): string | undefined {
    const value = this.env[name];
    if (value === undefined || value.length >= (rule.minLength ?? 1)) return value;
    return this.problem(name, rule.message ?? `must be at least ${rule.minLength} characters`);
  }

  /** Leading and trailing spaces removed; only spaces counts as unset. */
  trimmed(name: string): string | undefined {
    return this.env[name]?.trim() || undefined;
  }

  number(name: string, rule: { positive?: boolean; default: number }): number {
    const text = this.env[name];
    if (text === undefined) return rule.default;
    const value = Number(text);
    if (Number.isFinite(value) && (!rule.positive || value > 0)) return value;
    return this.problem(name, `must be a ${rule.positive ? 'positive ' : ''}number, not "${text}"`) ?? rule.default;
  }

  integer(name: string, rule: { min?: number; max?: number; default: number }): number;
  integer(name: string, rule: { min?: number; max?: number }): number | undefined;
  integer(name: string, rule: { min?: number; max?: number; default?: number }): number | undefined {
    const text = this.env[name];
    if (text === undefined) return rule.default;
    const value = Number(text);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = rule;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
    const range = rule.max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    return this.problem(name, `must be a whole number ${range}, not "${text}"`) ?? rule.default;
  }

  oneOf<const T extends string>(name: string, choices: readonly T[], message?: string): T | undefined {
    const value = this.env[name];
    if (value === undefined || (choices as readonly string[]).includes(value)) return value as T | undefined;
    return this.problem(name, message ?? `must be one of ${choices.join(', ')}, not "${value}"`);
  }

  /** Any URL (e.g. postgres://…), surrounding spaces removed. */
  url(name: string, message: string): string | undefined {
    const value = this.env[name]?.trim();
    if (value === undefined || URL.canParse(value)) return value;
    return this.problem(name, message);
  }

  /** An http:// or https:// URL, surrounding spaces removed. */
  httpUrl(name: string, message: string): string | undefined {
    const value = this.env[name]?.trim();
    if (value === undefined || (/^https?:\/\//i.test(value) && URL.canParse(value))) return value;
    return this.problem(name, message);
  }

  /** A name for one server among those sharing a database: letters, digits and . _ : - (at most 64). */
  executorId(name: string): string | undefined {
    const value = this.env[name]?.trim();
    if (value === undefined || /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(value)) return value;
    return this.problem(name, 'must be letters, digits and . _ : - (at most 64), such as mainloop-2');
  }

  /** Who push services may contact about this server's pushes: a mailto: address or an https:// URL (RFC 8292). */
  vapidSubject(name: string): string | undefined {
    const value = this.env[name]?.trim();
    if (value === undefined || /^mailto:[^@\s]+@[^@\s]+$/i.test(value)) return value;
    if (/^https:\/\//i.test(value) && URL.canParse(value)) return value;
    return this.problem(name, `${name} must be a mailto: address or an https:// URL, such as mailto:you@example.com`);
  }

  private problem(name: string, message: string): undefined {
    this.problems.push(`${name}: ${message}`);
    return undefined;
  }
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
  /** MAINLOOP_WORKER_CONCURRENCY: worker processes (agents, checks, commands) running at once in this server */
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
  /** MAINLOOP_SANDBOX: `bubblewrap` (the default; no task runs without it) or `none` (tasks run unconfined) */
  readonly sandbox: 'bubblewrap' | 'none';
  /** MAINLOOP_SANDBOX_READ_ONLY: more paths tasks may read (toolchains outside /usr and /opt), `:`-separated */
  readonly sandboxReadOnly: readonly string[];
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
  /**
   * How long the database may take: MAINLOOP_DB_CONNECT_TIMEOUT_MS to get a connection,
   * MAINLOOP_DB_STATEMENT_TIMEOUT_MS for one statement. Past them a request answers 503.
   */
  readonly databaseTimeouts: { readonly connectMs: number; readonly statementMs: number };
  /**
   * MAINLOOP_EXECUTOR_ID: this server's name among those sharing a database (default `local`). Its
   * unfinished workflows are resumed by the next start under the same name; two live servers may not
   * share one (see db/instance-lock.ts).
   */
  readonly executorId: string;
  readonly apiToken: string | undefined;
  /** The address people reach this server at, for links (the set-up link); defaults to http://HOST:PORT. */
  readonly publicUrl: string | undefined;
  /** Web Push's VAPID contact (mailto: or https:); unset: MAINLOOP_PUBLIC_URL when https, else a placeholder. */
  readonly vapidSubject: string | undefined;
  readonly eventRetentionDays: number;
  readonly bodyLimitBytes: number;
  readonly trustProxy: boolean;
  readonly logLevel: LogLevel;
  /** LOG_FORMAT: `json` (a JSON object a line) or `pretty` (lines for a person); unset: pretty on a terminal, JSON otherwise */
  readonly logFormat: 'json' | 'pretty' | undefined;
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
  const values = parseEnv(stripEmpty(env));
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
    databaseTimeouts: Object.freeze({
      connectMs: values.MAINLOOP_DB_CONNECT_TIMEOUT_MS,
      statementMs: values.MAINLOOP_DB_STATEMENT_TIMEOUT_MS,
    }),
    executorId: values.MAINLOOP_EXECUTOR_ID,
    apiToken: values.MAINLOOP_API_TOKEN,
    publicUrl: values.MAINLOOP_PUBLIC_URL?.replace(/\/+$/, ''),
    vapidSubject: values.MAINLOOP_VAPID_SUBJECT,
    eventRetentionDays: values.MAINLOOP_EVENT_RETENTION_DAYS,
    bodyLimitBytes: values.MAINLOOP_BODY_LIMIT_BYTES,
    trustProxy: values.MAINLOOP_TRUST_PROXY,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
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
      sandboxReadOnly: Object.freeze(values.MAINLOOP_SANDBOX_READ_ONLY),
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
