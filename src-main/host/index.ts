/** The transport-agnostic session host (see ./host.ts); adapters import only this. */
export {
  DEFAULT_TRACE_MEMORY_BYTES,
  SessionHost,
  type ConnectionSink,
  type HostConnection,
  type HostOptions,
} from './host';
export { DEFAULT_LIMITS, type HostLimits } from './limits';
export { installProcessGuards } from './guards';
export { DEFAULT_FLOW, type FlowOptions, type FlowStats } from './flow';
export { toErrorReply, HostError } from '../errors/reply';
export { listProcesses } from './processes';
export { appRoot, appVersion, libraryDescription, rendererDir } from './app';
