import type { EventData } from '../../../contract/index.js';
import type { EventStream } from './event-stream.js';

/**
 * The workers' events, subscribed in one go, each payload's shape checked before it is handed
 * on (as in thread-events.ts: the stream parses JSON but does not validate it).
 */
export type TaskEventType = 'task.updated' | 'task.log' | 'question.created' | 'question.answered';

export type TaskEventHandlers = { [K in TaskEventType]: (data: EventData<K>) => void };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isTask = (value: unknown): boolean =>
  isObject(value) && typeof value.id === 'string' && typeof value.status === 'string';
const isQuestion = (value: unknown): boolean =>
  isObject(value) &&
  typeof value.id === 'string' &&
  typeof value.taskId === 'string' &&
  typeof value.status === 'string' &&
  Array.isArray(value.options);
const isLogEntry = (value: unknown): boolean =>
  isObject(value) && typeof value.seq === 'number' && typeof value.kind === 'string' && typeof value.text === 'string';

const VALID: { [K in TaskEventType]: (data: unknown) => boolean } = {
  'task.updated': (data) => isObject(data) && isTask(data.task),
  'task.log': (data) =>
    isObject(data) && typeof data.taskId === 'string' && Array.isArray(data.entries) && data.entries.every(isLogEntry),
  'question.created': (data) => isObject(data) && isQuestion(data.question),
  'question.answered': (data) => isObject(data) && isQuestion(data.question),
};

/** Subscribes every handler; returns one function that unsubscribes them all. */
export function subscribeTaskEvents(
  stream: Pick<EventStream, 'on'>,
  handlers: TaskEventHandlers,
  onInvalid: (type: string) => void = (type) => console.warn(`event ${type} has an unexpected shape; ignored`),
): () => void {
  const subscribe = <K extends TaskEventType>(type: K) =>
    stream.on(type, (data) => {
      if (VALID[type](data)) handlers[type](data);
      else onInvalid(type);
    });
  const stops = [
    subscribe('task.updated'),
    subscribe('task.log'),
    subscribe('question.created'),
    subscribe('question.answered'),
  ];
  return () => stops.forEach((stop) => stop());
}
