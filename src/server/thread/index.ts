export { ThreadService } from './thread.service.js';
export { ProposalService } from './proposal.service.js';
export {
  TurnService,
  INTERRUPTED_ERROR,
  INTERNAL_ERROR,
  type ModelRequestResult,
  type TurnReply,
} from './turn.service.js';
export {
  registerTurnWorkflow,
  firstTurnId,
  retryTurnId,
  MAX_MODEL_REQUESTS,
  type TurnInput,
  type TurnWorkflow,
} from './turn.workflow.js';
export { TurnRecovery } from './turn-recovery.js';
export { ContextAssembler, DEFAULT_CONTEXT_BUDGET, estimateTokens, type ContextBudget } from './context-assembler.js';
export { ThreadTools, THREAD_TOOLS } from './thread-tools.js';
export { MessageRepository, toMessage, type MessageRecord } from './message.repository.js';
export { ProposalRepository } from './proposal.repository.js';
export { DeltaCoalescer } from './delta-coalescer.js';
export { threadRoutes } from './thread.routes.js';
export { proposalRoutes } from './proposal.routes.js';
export { providerRoutes } from './provider.routes.js';
