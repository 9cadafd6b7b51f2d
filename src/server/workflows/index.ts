export {
  launchDurableRuntime,
  prepareDurableRuntime,
  DURABLE_SCHEMA,
  PinoDbosLogger,
  type DurableRuntime,
  type DurableRuntimeOptions,
  type PreparedDurableRuntime,
} from './durable.js';
