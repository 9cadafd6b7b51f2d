import type { EventData } from '../../../contract/index.js';
import type { EventStream } from './event-stream.js';

/**
 * The main thread's events, subscribed in one go (tasks and questions: task-events.ts). Each payload's shape is checked before it is
 * handed on (the stream parses JSON but does not validate it, and the bundle carries no zod),
 * so that a malformed event is dropped rather than corrupting the thread.
 */
export type ThreadEventType = 'message.created' | 'message.delta' | 'message.completed' | 'proposal.updated';

export type ThreadEventHandlers = { [K in ThreadEventType]: (data: EventData<K>) => void };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const hasId = (value: unknown): boolean => isObject(value) && typeof value.id === 'string';
const isMessage = (value: unknown): boolean =>
  isObject(value) &&
  typeof value.id === 'string' &&
  typeof value.content === 'string' &&
  typeof value.role === 'string' &&
  typeof value.status === 'string';

const VALID: { [K in ThreadEventType]: (data: unknown) => boolean } = {
  'message.created': (data) => isObject(data) && isMessage(data.message),
  'message.delta': (data) => isObject(data) && typeof data.messageId === 'string' && typeof data.text === 'string',
  'message.completed': (data) => isObject(data) && isMessage(data.message),
  'proposal.updated': (data) => isObject(data) && hasId(data.proposal),
};

/** Subscribes every handler; returns one function that unsubscribes them all. */
export function subscribeThreadEvents(
  stream: Pick<EventStream, 'on'>,
  handlers: ThreadEventHandlers,
  onInvalid: (type: string) => void = (type) => console.warn(`event ${type} has an unexpected shape; ignored`),
): () => void {
  const subscribe = <K extends ThreadEventType>(type: K) =>
    stream.on(type, (data) => {
      if (VALID[type](data)) handlers[type](data);
      else onInvalid(type);
    });
  const stops = [
    subscribe('message.created'),
    subscribe('message.delta'),
    subscribe('message.completed'),
    subscribe('proposal.updated'),
  ];
  return () => stops.forEach((stop) => stop());
}
