export type {
  ModelClient,
  ModelMessage,
  ModelProviderName,
  ModelRequest,
  ModelStreamEvent,
  ModelTool,
  StopReason,
  TokenUsage,
  ToolCall,
  ToolResult,
} from './model-client.js';
export { MODEL_PROVIDERS } from './model-client.js';
export { ModelError, MODEL_ERROR_KINDS, type ModelErrorKind } from './model-error.js';
export {
  createModelClient,
  DEFAULT_CLAUDE_MODEL,
  describeProviders,
  setUpModels,
  UnconfiguredModelClient,
  type ModelSetup,
  type ProviderAvailability,
  type ProvidersDescription,
} from './providers.js';
export { RetryingModelClient, type RetryOptions } from './retrying.client.js';
export { AnthropicModelClient } from './anthropic.client.js';
export { OpenAiCompatibleModelClient } from './openai-compatible.client.js';
export { ClaudeSubscriptionModelClient, type ClaudeSubscriptionOptions } from './claude-subscription.client.js';
export { ClaudeSignInProbe, hasOauthEntry, type ClaudeSignIn } from './claude-credentials.js';
export { estimateCostUsd } from './pricing.js';
