export { InboxRepository, ACTIVE_TASK_STATUSES, toItem } from './inbox.repository.js';
export { InboxService, pushStateFor, type PushNudge } from './inbox.service.js';
export { inboxRoutes } from './inbox.routes.js';
export { InboxWaker } from './inbox-waker.js';
