/**
 * Snapshots captured for the explorer, owned by the worker core. A snapshot is immutable, so
 * the decoded entries of a class are walked once (default allocator) and kept for paging.
 * The explorer's captures also take the inspection details at the same moment
 * (PssLinuxCaptureSnapshotAndDetails) and attach them to the entries when they are walked.
 */
import {
  attachDetails,
  captureSnapshotAndDetails,
  detailFlagsFor,
  ProcessHandle,
  type CapturedDetails,
  type Snapshot,
} from '../pss';
import { CONTEXT_ALL, PssCaptureFlags } from '../../src-shared/pss/constants';
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type { EntryPage, SnapshotInfo } from '../../src-shared/contract/model';
import { snapshotNotFound } from '../errors/reply';

interface Held {
  snapshot: Snapshot;
  info: SnapshotInfo;
  details: CapturedDetails | null;
  entries: Map<WalkableClass, WalkEntry[]>;
}

/**
 * The name to show for a captured process: the executable's file name when the image name is a
 * path, else the image name as it is (a kernel thread's "ksoftirqd/0", a zombie's comm).
 */
export function processNameOf(imageFileName: string, pid: number): string {
  const name = imageFileName.startsWith('/')
    ? (imageFileName.split('/').pop() ?? '')
    : imageFileName;
  return name || `pid ${pid}`;
}

export interface CaptureOptions {
  /** Capture the inspection details with the snapshot (the explorer; walk sessions do not). */
  details?: boolean;
  /** With details: also per-region memory usage (smaps). */
  usage?: boolean;
}

/** Captures pid and describes the snapshot. The caller owns the returned snapshot. */
export function captureSnapshot(
  pid: number,
  flags: number,
  snapshotId: string,
  options: CaptureOptions = {},
): { snapshot: Snapshot; info: SnapshotInfo; details: CapturedDetails | null } {
  const t0 = performance.now();
  const proc = pid === process.pid ? ProcessHandle.current() : ProcessHandle.open(pid);
  let snapshot: Snapshot;
  let details: CapturedDetails | null;
  try {
    // Thread contexts need ThreadContextFlags (PSS_CAPTURE_THREAD_CONTEXT without them is an
    // invalid parameter): ask for every register set the API offers.
    const contextFlags = (flags & PssCaptureFlags.THREAD_CONTEXT) !== 0 ? CONTEXT_ALL : 0;
    const detailFlags = options.details ? detailFlagsFor(flags, options.usage ?? false) : 0;
    ({ snapshot, details } = captureSnapshotAndDetails(proc, flags, detailFlags, contextFlags));
  } finally {
    proc.close();
  }
  const captureMs = performance.now() - t0;
  try {
    const processInfo = snapshot.processInformation();
    const info: SnapshotInfo = {
      snapshotId,
      pid,
      processName: processNameOf(processInfo.imageFileName, pid),
      flags: flags >>> 0,
      capturedAtMs: Date.now(),
      captureMs,
      process: processInfo,
      counts: snapshot.counts(),
      performance: snapshot.performanceCounters(),
      details: details?.info ?? null,
    };
    return { snapshot, info, details };
  } catch (e) {
    snapshot.free();
    throw e;
  }
}

export class SnapshotCache {
  private readonly held = new Map<string, Held>();
  private next = 1;

  /** `idPrefix` keeps ids unique across walk workers (a restarted worker has another). */
  constructor(private readonly idPrefix = '') {}

  get size(): number {
    return this.held.size;
  }

  capture(pid: number, flags: number, usage = false): SnapshotInfo {
    const id = `${this.idPrefix}snap${this.next++}`;
    const { snapshot, info, details } = captureSnapshot(pid, flags, id, { details: true, usage });
    this.held.set(id, { snapshot, info, details, entries: new Map() });
    return info;
  }

  get(snapshotId: string): Held {
    const h = this.held.get(snapshotId);
    if (!h) throw snapshotNotFound(snapshotId);
    return h;
  }

  entries(snapshotId: string, cls: WalkableClass): WalkEntry[] {
    const h = this.get(snapshotId);
    let list = h.entries.get(cls);
    if (!list) {
      list = [...h.snapshot.entries(cls)];
      if (h.details) attachDetails(list, h.details);
      h.entries.set(cls, list);
    }
    return list;
  }

  page(snapshotId: string, cls: WalkableClass, offset: number, limit: number): EntryPage {
    const all = this.entries(snapshotId, cls);
    return {
      snapshotId,
      cls,
      offset,
      total: all.length,
      entries: all.slice(offset, offset + limit),
    };
  }

  free(snapshotId: string): void {
    const h = this.get(snapshotId);
    this.held.delete(snapshotId);
    h.snapshot.free();
  }

  freeAll(): void {
    for (const id of [...this.held.keys()]) this.free(id);
  }
}
