export {
  launchDurableRuntime,
  prepareDurableRuntime,
  DURABLE_SCHEMA,
  PinoDbosLogger,
  type DurableRuntime,
  type DurableRuntimeOptions,
  type PreparedDurableRuntime,
} from './durable.js';
export {
  registerExampleWorkflow,
  ExampleStepRepository,
  type ExampleWorkflow,
  type CountInput,
  type CountResult,
} from './example.workflow.js';
