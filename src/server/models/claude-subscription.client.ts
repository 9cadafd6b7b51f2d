import os from 'node:os';
import type {
  CanUseTool,
  Options,
  SDKAssistantMessageError,
  SDKMessage,
  SDKResultMessage,
} from '@anthropic-ai/claude-agent-sdk';

type AgentSdk = typeof import('@anthropic-ai/claude-agent-sdk');
/** Loaded at the first request: the SDK is large and most set-ups never use it (start-up time). */
let agentSdk: Promise<AgentSdk> | undefined;
const loadAgentSdk = () => (agentSdk ??= import('@anthropic-ai/claude-agent-sdk'));
import { abortedError } from './ai-sdk-stream.js';
import type {
  ModelClient,
  ModelMessage,
  ModelRequest,
  ModelStreamEvent,
  ModelTool,
  StopReason,
} from './model-client.js';
import { describeFailure, ModelError, rootMessage, type ModelErrorKind } from './model-error.js';

/** Our tools appear to Claude Code as the in-process MCP server `mainloop`: `mcp__mainloop__<name>`. */
const MCP_SERVER = 'mainloop';
const MCP_PREFIX = `mcp__${MCP_SERVER}__`;

export interface ClaudeSubscriptionOptions {
  model: string;
  /**
   * The Claude Code CLI's whole environment (it replaces, not extends, this process's).
   * Default: this process's environment, where the CLI finds the person's sign-in.
   */
  env?: Record<string, string | undefined>;
  /** where the CLI runs; it has no file tools, so this only keeps it away from project files (default: the temp dir) */
  cwd?: string;
  /** default: the CLI bundled with the Agent SDK */
  pathToClaudeCodeExecutable?: string;
}

/**
 * A Claude subscription through the Claude Agent SDK, which runs the Claude Code CLI signed in
 * as the person. Each `stream()` is one CLI run that makes exactly one model request:
 *
 * - no built-in tools (`tools: []`), no settings, plugins or MCP servers of the person's
 *   (`settingSources: []`, `strictMcpConfig`), the prompt passed verbatim (no `@file` or
 *   slash-command expansion), no session written;
 * - our tools are offered as an in-process MCP server, but when the model calls one, the
 *   permission callback denies it with `interrupt`, so Claude Code stops without running it or
 *   asking the model again; the call reaches the caller as a `tool-call` event, as with the
 *   other providers, and the caller runs it;
 * - Claude Code's own retries and its non-streaming fallback are off: RetryingModelClient decides.
 *
 * Unlike the API providers, the CLI cannot take a structured history: the conversation is
 * rendered as a transcript in one user prompt (see `renderTranscript`), and Claude Code adds its
 * own preamble to the system prompt. Cost is Claude Code's list-price estimate (`total_cost_usd`);
 * a subscription is not billed per token.
 */
export class ClaudeSubscriptionModelClient implements ModelClient {
  readonly provider = 'claude-subscription' as const;
  readonly defaultModel: string;

  constructor(private readonly options: ClaudeSubscriptionOptions) {
    this.defaultModel = options.model;
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const model = request.model ?? this.defaultModel;
    const abortController = new AbortController();
    const forwardAbort = () => abortController.abort(request.abortSignal?.reason);
    if (request.abortSignal?.aborted) forwardAbort();
    request.abortSignal?.addEventListener('abort', forwardAbort, { once: true });
    const stderr: string[] = [];

    const sdk = await loadAgentSdk();
    const run = sdk.query({
      prompt: renderTranscript(request.messages),
      options: this.queryOptions(sdk, request, model, abortController, (line) => {
        stderr.push(line);
        if (stderr.length > 20) stderr.shift();
      }),
    });

    const reply = new ReplyState();
    try {
      for await (const message of run) {
        yield* reply.accept(message);
        if (message.type === 'result') {
          yield reply.finish(message, model);
          return;
        }
      }
      throw new ModelError({
        kind: 'server',
        provider: this.provider,
        message: describeFailure(
          this.provider,
          'server',
          `Claude Code stopped without an answer. ${stderr.join('').trim()}`.trim(),
        ),
      });
    } catch (error) {
      if (request.abortSignal?.aborted) throw abortedError(this.provider, request.abortSignal);
      throw error instanceof ModelError ? error : fromCliFailure(error, stderr);
    } finally {
      request.abortSignal?.removeEventListener('abort', forwardAbort);
      run.close();
    }
  }

  private queryOptions(
    sdk: AgentSdk,
    request: ModelRequest,
    model: string,
    abortController: AbortController,
    stderr: (line: string) => void,
  ): Options {
    const tools = request.tools ?? [];
    const deferToCaller: CanUseTool = async () => ({
      behavior: 'deny',
      message: 'mainloop runs this tool itself.',
      interrupt: true,
    });
    return {
      model,
      systemPrompt: request.system,
      cwd: this.options.cwd ?? os.tmpdir(),
      env: this.options.env,
      pathToClaudeCodeExecutable: this.options.pathToClaudeCodeExecutable,
      abortController,
      stderr,
      includePartialMessages: true,
      tools: [],
      mcpServers: tools.length > 0 ? { [MCP_SERVER]: mcpServer(sdk, tools) } : {},
      strictMcpConfig: true,
      settingSources: [],
      persistSession: false,
      verbatimPrompts: true,
      thinking: { type: 'disabled' },
      permissionMode: 'default',
      canUseTool: deferToCaller,
      maxTurns: 1,
      settings: {
        env: {
          CLAUDE_CODE_MAX_RETRIES: '0',
          CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          ...(request.maxOutputTokens ? { CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(request.maxOutputTokens) } : {}),
        },
      },
    };
  }
}

/** Follows one CLI run's messages: text as it streams, tool calls once complete, the stop reason. */
class ReplyState {
  private stopReason: string | null = null;
  private model: string | undefined;
  private streamedText = false;
  private error: SDKAssistantMessageError | undefined;

  *accept(message: SDKMessage): Generator<ModelStreamEvent> {
    if (message.type === 'stream_event' && message.parent_tool_use_id === null) {
      const event = message.event;
      if (event.type === 'message_start') this.model = event.message.model;
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta' && event.delta.text) {
        this.streamedText = true;
        yield { type: 'text-delta', text: event.delta.text };
      }
      if (event.type === 'message_delta' && event.delta.stop_reason) this.stopReason = event.delta.stop_reason;
    }
    if (message.type === 'assistant' && message.parent_tool_use_id === null) {
      if (message.error) {
        this.error = message.error;
        return;
      }
      for (const block of message.message.content) {
        // Text normally arrives as deltas; this covers a CLI that did not stream it.
        if (block.type === 'text' && !this.streamedText && block.text) yield { type: 'text-delta', text: block.text };
        if (block.type === 'tool_use') {
          const name = block.name.startsWith(MCP_PREFIX) ? block.name.slice(MCP_PREFIX.length) : block.name;
          yield { type: 'tool-call', id: block.id, name, input: block.input };
        }
      }
    }
  }

  finish(result: SDKResultMessage, requestedModel: string): ModelStreamEvent {
    const resultText = result.subtype === 'success' ? result.result : result.errors.join('; ');
    if (this.error || (result.is_error && this.stopReason !== 'tool_use')) {
      throw fromAssistantError(this.error, resultText);
    }
    if (!this.stopReason) {
      throw new ModelError({
        kind: 'network',
        provider: 'claude-subscription',
        message: describeFailure('claude-subscription', 'network', 'the reply ended before the model finished it'),
      });
    }
    const usage = result.usage;
    return {
      type: 'finish',
      stopReason: toStopReason(this.stopReason),
      usage: {
        inputTokens: usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens,
        outputTokens: usage.output_tokens,
      },
      costUsd: result.total_cost_usd,
      model: this.model ?? requestedModel,
    };
  }
}

/**
 * The conversation as one prompt. A single user message goes as it is; a longer conversation
 * becomes a transcript, since the CLI takes one prompt and no earlier assistant turns.
 */
export function renderTranscript(messages: readonly ModelMessage[]): string {
  const [only] = messages;
  if (messages.length === 1 && only?.role === 'user') return only.content;
  const parts = [
    'The conversation so far, oldest first. Write the assistant’s next reply. To use a tool, call it: never write a tool call as text.',
    '',
    '<conversation>',
  ];
  for (const message of messages) {
    if (message.role === 'user') parts.push(`<user>\n${message.content}\n</user>`);
    else if (message.role === 'assistant') {
      const calls = (message.toolCalls ?? []).map(
        (call) => `<tool_call id="${call.id}" name="${call.name}">${JSON.stringify(call.input)}</tool_call>`,
      );
      parts.push(['<assistant>', message.content, ...calls, '</assistant>'].filter(Boolean).join('\n'));
    } else {
      for (const result of message.results) {
        const error = result.isError ? ' is_error="true"' : '';
        parts.push(
          `<tool_result id="${result.callId}" name="${result.name}"${error}>\n${result.content}\n</tool_result>`,
        );
      }
    }
  }
  parts.push('</conversation>', '');
  const last = messages.at(-1);
  parts.push(
    last?.role === 'tool'
      ? 'Continue the assistant’s reply using the tool results above.'
      : 'Reply to the last user message.',
  );
  return parts.join('\n');
}

function mcpServer(sdk: AgentSdk, tools: readonly ModelTool[]) {
  return sdk.createSdkMcpServer({
    name: MCP_SERVER,
    version: '1.0.0',
    tools: tools.map((definition) =>
      // Never called: the permission callback stops Claude Code before it runs a tool.
      sdk.tool(definition.name, definition.description, definition.inputSchema.shape, async () => ({
        content: [{ type: 'text' as const, text: 'mainloop runs this tool itself.' }],
        isError: true,
      })),
    ),
  });
}

function toStopReason(reason: string): StopReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'end_turn';
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
      return 'max_tokens';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

const CLI_ERROR_KINDS: Record<SDKAssistantMessageError, ModelErrorKind> = {
  rate_limit: 'rate_limited',
  overloaded: 'overloaded',
  server_error: 'server',
  authentication_failed: 'auth',
  oauth_org_not_allowed: 'auth',
  account_on_hold: 'auth',
  verification_required: 'auth',
  billing_error: 'auth',
  cloud_credential_error: 'auth',
  invalid_request: 'bad_request',
  model_not_found: 'bad_request',
  max_output_tokens: 'bad_request',
  unknown: 'unknown',
};

/** An API failure as Claude Code reports it: an error code on a synthetic assistant message and a sentence. */
function fromAssistantError(code: SDKAssistantMessageError | undefined, text: string): ModelError {
  const status = Number(/\((\d{3})\)|API Error: (\d{3})/.exec(text)?.slice(1).find(Boolean)) || undefined;
  let kind: ModelErrorKind = code ? CLI_ERROR_KINDS[code] : 'unknown';
  // A dropped connection is reported as a server error; it is a network failure for us.
  if ((kind === 'server' || kind === 'unknown') && /connection|ECONNRESET|socket|network/i.test(text)) kind = 'network';
  const detail = text.replace(/^API Error:\s*/, '').trim() || code;
  return new ModelError({
    kind,
    provider: 'claude-subscription',
    status,
    message: describeFailure('claude-subscription', kind, detail, status),
  });
}

/** The CLI did not run, or ended in a way the SDK raises as an exception. */
function fromCliFailure(error: unknown, stderr: string[]): ModelError {
  const message = rootMessage(error);
  const reported = /Claude Code returned an error result: (.*)$/s.exec(message)?.[1];
  if (reported) return fromAssistantError(undefined, reported);
  const output = stderr.join('').trim();
  return new ModelError({
    kind: 'unknown',
    provider: 'claude-subscription',
    message: `Claude Code could not run: ${message}${output ? ` (${output.slice(-500)})` : ''}`,
    cause: error,
  });
}
