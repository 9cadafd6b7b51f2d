import type { TaskSpec } from '../../../contract/index.js';
import { ApiRequestError, type ApiClient } from '../api/client.js';

/**
 * What the person does from the inbox, as data: each one is written down (the offline queue)
 * before it is sent, so that an action taken on a train reaches the server when the phone is
 * back online. Each maps onto one existing route.
 */
export type InboxAction =
  | { type: 'done'; itemId: string }
  | { type: 'snooze'; itemId: string; until: string }
  | { type: 'answer'; itemId: string; questionId: string; answer: string | string[] }
  | { type: 'plan'; itemId: string; taskId: string; decision: 'approve' | 'revise'; feedback?: string }
  | { type: 'review'; itemId: string; taskId: string; decision: 'approve' | 'request_changes'; feedback?: string }
  | { type: 'retry'; taskId: string; itemId?: string }
  | { type: 'cancel'; taskId: string; itemId?: string }
  /** a proposal said yes to, as proposed or with the person's edits (`payload`) */
  | { type: 'confirm'; itemId: string; proposalId: string; payload?: TaskSpec }
  | { type: 'dismiss'; itemId: string; proposalId: string };

export type InboxActionType = InboxAction['type'];

/** Sends one action through the typed client. */
export async function sendAction(api: ApiClient, action: InboxAction): Promise<unknown> {
  switch (action.type) {
    case 'done':
      return api.markInboxItemDone(action.itemId);
    case 'snooze':
      // Replayed after its time (queued offline): the item is due again already; nothing to send.
      if (Date.parse(action.until) <= Date.now()) return undefined;
      return api.snoozeInboxItem(action.itemId, action.until);
    case 'answer':
      return api.answerQuestion(action.questionId, action.answer);
    case 'plan':
      return api.decidePlan(action.taskId, {
        decision: action.decision,
        ...(action.feedback ? { feedback: action.feedback } : {}),
      });
    case 'review':
      return api.decideReview(action.taskId, {
        decision: action.decision,
        ...(action.feedback ? { feedback: action.feedback } : {}),
      });
    case 'retry':
      return api.retryTask(action.taskId);
    case 'cancel':
      return api.cancelTask(action.taskId);
    case 'confirm':
      return api.confirmProposal(action.proposalId, action.payload);
    case 'dismiss':
      return api.dismissProposal(action.proposalId);
  }
}

/**
 * How a failed send ends: `retry` keeps it queued (no network, the server down, 408/429, signed
 * out for a moment); `conflict` (409) means another device or the worker got there first, which
 * is fine: it is dropped with a note; `rejected` (any other 4xx, and a done refused because the
 * item still waits on the person) drops it and says why, on the item that comes back.
 */
export function actionFailure(error: unknown): 'retry' | 'conflict' | 'rejected' {
  if (!(error instanceof ApiRequestError)) return 'retry';
  const { status } = error;
  if (status === 0 || status >= 500 || status === 401 || status === 408 || status === 425 || status === 429) {
    return 'retry';
  }
  if (status === 409 && error.code !== 'ITEM_STILL_WAITING') return 'conflict';
  return 'rejected';
}

/** A few words for notes and errors: "Done", "Answer", "Approve plan"… */
export function describeAction(action: InboxAction): string {
  switch (action.type) {
    case 'done':
      return 'Done';
    case 'snooze':
      return 'Snooze';
    case 'answer':
      return 'Answer';
    case 'plan':
      return action.decision === 'approve' ? 'Approve plan' : 'Revise plan';
    case 'review':
      return action.decision === 'approve' ? 'Approve review' : 'Request changes';
    case 'retry':
      return 'Retry';
    case 'cancel':
      return 'Cancel task';
    case 'confirm':
      return action.payload ? 'Confirm with changes' : 'Confirm';
    case 'dismiss':
      return 'Dismiss';
  }
}
