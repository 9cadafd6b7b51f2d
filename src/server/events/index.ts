export { EventRepository, EVENTS_CHANNEL, type NewEvent, type StoredEvent } from './event.repository.js';
export { EventService } from './event.service.js';
export { EventHub, DEFAULT_EVENT_HUB_TUNING, type EventHubStats, type EventHubTuning } from './event.hub.js';
export { EventRetention } from './event-retention.js';
export { eventRoutes } from './event.routes.js';
