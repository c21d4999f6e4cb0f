/** The Process Snapshotting binding: the only place in the app that knows koffi. */
export { ProcessHandle, Snapshot, WalkMarker, WALK_CLASSES, type MarkerHooks } from './snapshot';
export { PssError, PssMisuseError, NativeTracerError, AtError, type MisuseKind } from './errors';
export { loadPss, findLibpss, PssLoadError, CURRENT_PROCESS } from './library';
export type { NativeAllocator } from './allocator';
export { nativeMemory, type NativeMemory } from './native-memory';
export { memoryEqual } from './native-extra';
export {
  attachDetails,
  captureSnapshotAndDetails,
  detailFlagsFor,
  DetailFlags,
  type CapturedDetails,
} from './details';
export {
  NativeTracer,
  checkUserLibrary,
  nativeClockSource,
  WALK_MANY_MAX,
  findAlloctrace,
  type NativePssAllocator,
} from './native-tracer';
