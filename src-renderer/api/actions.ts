/** User actions that talk to the host and put the answers into the store. */
import type { SessionState, SnapshotInfo } from '../../src-shared/contract/model';
import { appStore, type CaptureForm } from '../store';
import { adoptSession, expectSession } from '../session/ingest';
import { closeSessionData, sessionData } from '../session/sessionData';
import { dropSnapshot } from '../session/snapshotCache';
import { raf } from '../render/raf';
import { NO_FILTER, type EventFilter } from '../data/eventFilter';
import { request } from './connection';
import { downloadTrace, uploadTrace } from '../../src-shared/contract/transfer';

/** listProcesses; `quiet` (the live refresh) does not show the loading state. */
export async function refreshProcesses(quiet = false): Promise<void> {
  const s = appStore.get();
  if (!quiet) s.setProcesses({ loading: true });
  const r = await request('listProcesses', {});
  if (r.ok) s.setProcesses({ rows: r.value, loading: false, error: null, loadedAtMs: Date.now() });
  else s.setProcesses({ loading: false, error: r.error });
}

export async function captureSnapshot(
  pid: number,
  flags: number,
  usage = appStore.get().captureForm.usage,
): Promise<SnapshotInfo | null> {
  const s = appStore.get();
  const tabAtStart = s.tab;
  s.setCapturing(true);
  const r = await request('capture', { pid, flags: flags >>> 0, usage });
  if (!r.ok) {
    s.setCapturing(false, r.error);
    return null;
  }
  s.setCapturing(false);
  s.addSnapshot(r.value);
  s.setActiveSnapshot(r.value.snapshotId);
  // Show it, unless the user went to another view while it was being captured.
  if (appStore.get().tab === tabAtStart) s.setTab('snapshot');
  return r.value;
}

export async function freeSnapshot(snapshotId: string): Promise<void> {
  const r = await request('freeSnapshot', { snapshotId });
  dropSnapshot(snapshotId);
  appStore.get().removeSnapshot(snapshotId);
  if (!r.ok) appStore.get().setBanner(r.error);
}

export async function compareSnapshots(a: string, b: string): Promise<void> {
  const s = appStore.get();
  s.setCompare({ a, b, loading: true, error: null, diff: null });
  const r = await request('diffSnapshots', { a, b });
  if (r.ok) appStore.get().setCompare({ diff: r.value, loading: false });
  else appStore.get().setCompare({ error: r.error, loading: false });
}

function resetSelection(): void {
  const s = appStore.get();
  s.selectSeq(null);
  s.setSummary(null);
  s.setSessionError(null);
}

/**
 * What a new session (started or imported) starts from: no selection, no summary, no error of
 * an earlier session on screen (its banner would read as if the new one failed), and no event
 * filter left from the last session (its log would look empty or partial). Runs before the new
 * session is adopted, so the new filter index starts unfiltered.
 */
function resetForNewSession(importedFrom: string | null): void {
  resetSelection();
  const s = appStore.get();
  s.setBanner(null);
  s.setEventFilter(NO_FILTER);
  s.setImportedTrace(importedFrom);
}

/** Starts a walk session on a live process (pid) or a captured snapshot. */
export async function startSession(
  target: { pid: number } | { snapshotId: string },
  form: CaptureForm,
): Promise<boolean> {
  const s = appStore.get();
  const old = s.session;
  if (old && !['finished', 'cancelled', 'failed'].includes(old.state)) {
    await request('sessionControl', { sessionId: old.sessionId, action: 'cancel' });
  }
  s.setControlPending('start');
  expectSession(true);
  const r = await request('startSession', {
    ...target,
    flags: form.flags >>> 0,
    allocator: form.allocator,
    classes: form.classes,
    pace: form.pace,
    onAllocFailure: form.onAllocFailure,
    passes: form.passes,
  });
  s.setControlPending(null);
  if (!r.ok) {
    expectSession(false);
    s.setSessionError(r.error);
    s.setTab('walk');
    return false;
  }
  closeSessionData();
  resetForNewSession(null);
  adoptSession(r.value);
  raf.invalidate('events', 'selection');
  appStore.get().setTab('walk');
  return true;
}

export type ControlAction =
  | 'pause'
  | 'resume'
  | 'step'
  | 'seekToBeginning'
  | 'savePosition'
  | 'restorePosition'
  | 'cancel'
  | 'setPace';

export async function control(
  action: ControlAction,
  extra: { bookmarkId?: number; pace?: CaptureForm['pace'] } = {},
): Promise<void> {
  const s = appStore.get();
  const session = s.session;
  if (!session) return;
  s.setControlPending(action);
  const r = await request('sessionControl', { sessionId: session.sessionId, action, ...extra });
  s.setControlPending(null);
  if (r.ok) {
    if (appStore.get().session?.sessionId === r.value.sessionId) appStore.get().setSession(r.value);
    appStore.get().setSessionError(null);
  } else appStore.get().setSessionError(r.error);
}

export async function closeSession(): Promise<void> {
  const session = appStore.get().session;
  if (!session) return;
  await request('closeSession', { sessionId: session.sessionId });
  closeSessionData();
  appStore.get().setSession(null);
  appStore.get().setImportedTrace(null);
  resetSelection();
  raf.invalidate('events', 'selection');
}

/** Asks for the summary (only answered once the session ended). */
export async function loadSummary(): Promise<void> {
  const session = appStore.get().session;
  if (!session) return;
  const r = await request('sessionSummary', { sessionId: session.sessionId });
  if (r.ok) appStore.get().setSummary(r.value);
}

function download(fileName: string, parts: ArrayBuffer[]): void {
  const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportTrace(): Promise<void> {
  const session = appStore.get().session;
  if (!session) {
    appStore.get().setBanner({
      kind: 'misuse',
      code: null,
      codeName: null,
      message: 'There is no session to export.',
      hint: 'Start a walk session first (Capture tab), then export its trace.',
    });
    return;
  }
  // The file comes in chunks (no message holds a whole trace); the Blob joins them.
  const r = await downloadTrace(request, session.sessionId);
  if (r.ok) download(r.fileName, r.parts);
  else appStore.get().setBanner(r.error);
}

export async function importTrace(file: File): Promise<void> {
  expectSession(true);
  // Uploaded in chunks read one at a time from the file: the page never holds it whole.
  const r = await uploadTrace(request, file.name, {
    size: file.size,
    slice: (start, end) => file.slice(start, end).arrayBuffer(),
  });
  if (!r.ok) {
    expectSession(false);
    appStore.get().setBanner(r.error);
    return;
  }
  showImported(file.name, r.value);
}

/** An imported trace becomes the session on screen, shown from its allocations. */
function showImported(fileName: string, state: SessionState): void {
  closeSessionData();
  resetForNewSession(fileName);
  adoptSession(state);
  raf.invalidate('events', 'selection');
  appStore.get().setTab('allocations');
}

/**
 * The trace the app was started on (`pss-inspector open FILE`), if any, becomes the session:
 * asked once, when the page first reaches the host.
 */
export async function openStartupTrace(): Promise<void> {
  if (appStore.get().session) return;
  expectSession(true);
  const r = await request('openedTrace', {});
  if (!r.ok || !r.value || appStore.get().session) {
    expectSession(false);
    if (!r.ok) appStore.get().setBanner(r.error);
    else if (r.value) void request('closeSession', { sessionId: r.value.session.sessionId });
    return;
  }
  showImported(r.value.fileName, r.value.session);
}

/**
 * A trace another `pss-inspector open FILE` sent to the running app: it becomes the session on
 * screen, in place of the one shown (as Open trace… does).
 */
export async function openSentTrace(): Promise<void> {
  expectSession(true);
  const r = await request('openedTrace', {});
  if (!r.ok || !r.value) {
    expectSession(false);
    if (!r.ok) appStore.get().setBanner(r.error);
    return;
  }
  showImported(r.value.fileName, r.value.session);
}

/** Filters the event log: rebuilds the module-owned index, then stores the filter. */
export function applyEventFilter(f: EventFilter): void {
  const d = sessionData();
  if (d) {
    d.filtered.setFilter(d.columns, f);
    d.filtered.extend(d.analysis.frontier);
  }
  appStore.get().setEventFilter(f);
}

export function currentSessionId(): string | null {
  return sessionData()?.sessionId ?? null;
}
