/** The transport-agnostic session host (see ./host.ts); adapters import only this. */
export { SessionHost, type ConnectionSink, type HostConnection, type HostOptions } from './host';
export { DEFAULT_FLOW, type FlowOptions, type FlowStats } from './flow';
export { toErrorReply, HostError } from './errors';
export { listProcesses } from './processes';
export { appRoot, appVersion, libraryDescription, rendererDir } from './app';
