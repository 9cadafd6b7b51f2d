export { EventRepository, EVENTS_CHANNEL, type StoredEvent } from './event.repository.js';
