import { sql as foundation } from './0001-foundation.js';
import { sql as thread } from './0002-thread.js';
import { sql as workers } from './0003-workers.js';
import { sql as inbox } from './0004-inbox.js';
import { sql as eventOutbox } from './0005-event-outbox.js';
import { sql as projectNetwork } from './0006-project-network.js';
import { sql as taskNumbers } from './0007-task-numbers.js';
import { sql as inboxWaits } from './0008-inbox-waits.js';
import { sql as messageToolSteps } from './0009-message-tool-steps.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. Append; never edit one that has shipped. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'foundation', sql: foundation },
  { version: 2, name: 'thread', sql: thread },
  { version: 3, name: 'workers', sql: workers },
  { version: 4, name: 'inbox', sql: inbox },
  { version: 5, name: 'event-outbox', sql: eventOutbox },
  { version: 6, name: 'project-network', sql: projectNetwork },
  { version: 7, name: 'task-numbers', sql: taskNumbers },
  { version: 8, name: 'inbox-waits', sql: inboxWaits },
  { version: 9, name: 'message-tool-steps', sql: messageToolSteps },
];
