/** Capture flags, allocator strategy with fault injection, walk classes, pace, failure policy. */
import { useMemo, useState } from 'react';
import {
  BASE_STRATEGIES,
  DEFAULT_FAULTY_PROBABILITY,
  DEFAULT_FAULTY_SEED,
  STRATEGY_INFO,
  USER_STRATEGY_INFO,
  defaultOptions,
  describeOptions,
  parseAllocatorOptions,
  type AllocatorOptions,
  type BaseAllocatorOptions,
  type BaseStrategyName,
  type FaultyOptions,
} from '../../src-shared/alloc/options';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  WALKABLE_CLASSES,
  type PssCaptureFlagName,
} from '../../src-shared/pss/constants';
import { captureSnapshot, startSession } from '../api/actions';
import { ErrorBox, Empty } from '../components/ErrorBox';
import { CLASS_LABELS } from '../data/entryColumns';
import { formatBytes, formatEpochMs, plural } from '../lib/format';
import { DEFAULT_CAPTURE_FORM, useApp, useAppShallow, type CaptureForm } from '../store';

const CAPTURE_FLAGS: { name: PssCaptureFlagName; text: string }[] = [
  { name: 'THREADS', text: 'Thread list' },
  { name: 'THREAD_CONTEXT', text: 'Thread register context (needs ptrace stop)' },
  { name: 'THREAD_CONTEXT_EXTENDED', text: 'Extended context (XSTATE)' },
  { name: 'HANDLES', text: 'Handle (fd) table' },
  { name: 'HANDLE_NAME_INFORMATION', text: 'Handle object names' },
  { name: 'HANDLE_BASIC_INFORMATION', text: 'Granted access, counts, attributes' },
  { name: 'HANDLE_TYPE_SPECIFIC_INFORMATION', text: 'Per-type details (process, event, section…)' },
  { name: 'HANDLE_TRACE', text: 'Handle trace' },
  { name: 'VA_SPACE', text: 'Virtual address space regions' },
  { name: 'VA_SPACE_SECTION_INFORMATION', text: 'Mapped file names, image headers' },
  { name: 'VA_CLONE', text: 'VA clone (copy of the address space)' },
  { name: 'IPT_TRACE', text: 'Intel PT trace (undocumented)' },
];
const CREATE_FLAGS: { name: PssCaptureFlagName; text: string }[] = [
  { name: 'CREATE_MEASURE_PERFORMANCE', text: 'Measure capture performance counters' },
  { name: 'CREATE_USE_VM_ALLOCATIONS', text: 'Avoid the process heap (VM allocations)' },
  { name: 'CREATE_BREAKAWAY', text: 'Clone breaks away from the job' },
  { name: 'CREATE_BREAKAWAY_OPTIONAL', text: 'Breakaway may fail silently' },
  { name: 'CREATE_FORCE_BREAKAWAY', text: 'Forced breakaway (Tcb privilege)' },
  { name: 'CREATE_RELEASE_SECTION', text: 'Clone keeps no image reference' },
];

function baseOf(a: AllocatorOptions): BaseAllocatorOptions {
  return a.strategy === 'faulty' ? a.inner : a;
}

function FlagBox({
  name,
  text,
  flags,
  onToggle,
}: {
  name: PssCaptureFlagName;
  text: string;
  flags: number;
  onToggle: (bit: number) => void;
}) {
  const bit = PssCaptureFlags[name];
  const on = (flags & bit) >>> 0 === bit;
  const isDefault = (DEFAULT_CAPTURE_FLAGS & bit) >>> 0 === bit;
  return (
    <label
      className="check flag"
      title={`PSS_${name.startsWith('CREATE_') ? '' : 'CAPTURE_'}${name} = 0x${bit.toString(16)}`}
    >
      <input
        type="checkbox"
        checked={on}
        onChange={() => onToggle(bit)}
        data-testid={`flag-${name}`}
      />
      <span className="flag-name mono">{name}</span>
      <span className="muted">
        {text}
        {isDefault ? ' · default' : ''}
      </span>
    </label>
  );
}

function NumberField(props: {
  label: string;
  value: number | undefined;
  testId: string;
  min?: number;
  max?: number;
  step?: number;
  placeholder?: string;
  onChange: (v: number | undefined) => void;
  suffix?: string;
}) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type="number"
        value={props.value ?? ''}
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value === '' ? undefined : Number(e.target.value))}
        data-testid={props.testId}
      />
      {props.suffix && <span className="muted">{props.suffix}</span>}
    </label>
  );
}

function parseList(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const out = parts.map(Number);
  return out.every((n) => Number.isInteger(n) && n > 0) ? out : null;
}

function AllocatorEditor({
  value,
  onChange,
}: {
  value: AllocatorOptions;
  onChange: (a: AllocatorOptions) => void;
}) {
  const base = baseOf(value);
  const faulty: FaultyOptions | null = value.strategy === 'faulty' ? value : null;
  const [poolText, setPoolText] = useState(base.strategy === 'pool' ? base.classes.join(', ') : '');
  const [nthText, setNthText] = useState(faulty?.failNth?.join(', ') ?? '');
  const setBase = (b: BaseAllocatorOptions): void => onChange(faulty ? { ...faulty, inner: b } : b);
  const setFaulty = (patch: {
    [K in 'failNth' | 'failProbability' | 'seed' | 'budgetBytes']?: FaultyOptions[K] | undefined;
  }): void => {
    if (!faulty) return;
    const next: Record<string, unknown> = { ...faulty, ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    onChange(next as unknown as FaultyOptions);
  };
  const parsed = parseAllocatorOptions(value);

  return (
    <div className="allocator">
      <div className="strategy-row" role="radiogroup" aria-label="Allocator strategy">
        {BASE_STRATEGIES.map((s: BaseStrategyName) => (
          <label
            key={s}
            className={`strategy-card${base.strategy === s ? ' on' : ''}`}
            data-testid={`allocator-strategy-${s}`}
          >
            <input
              type="radio"
              name="strategy"
              className="sr-only"
              value={s}
              checked={base.strategy === s}
              onChange={() => {
                const d = defaultOptions(s) as BaseAllocatorOptions;
                if (d.strategy === 'pool') setPoolText(d.classes.join(', '));
                setBase(d);
              }}
              aria-labelledby={`strategy-${s}-name`}
              aria-describedby={`strategy-${s}-desc`}
              data-testid={`allocator-strategy-${s}-radio`}
            />
            <b id={`strategy-${s}-name`}>{STRATEGY_INFO[s].label}</b>
            <span className="muted small" id={`strategy-${s}-desc`}>
              {STRATEGY_INFO[s].description}
            </span>
          </label>
        ))}
        <label
          className={`strategy-card${base.strategy === 'user' ? ' on' : ''}`}
          data-testid="allocator-strategy-user"
        >
          <input
            type="radio"
            name="strategy"
            className="sr-only"
            value="user"
            checked={base.strategy === 'user'}
            onChange={() => setBase({ strategy: 'user', libraryPath: '' })}
            aria-labelledby="strategy-user-name"
            aria-describedby="strategy-user-desc"
            data-testid="allocator-strategy-user-radio"
          />
          <b id="strategy-user-name">{USER_STRATEGY_INFO.label}</b>
          <span className="muted small" id="strategy-user-desc">
            {USER_STRATEGY_INFO.description}
          </span>
        </label>
      </div>
      <div className="strategy-options">
        {base.strategy === 'user' && (
          <label className="field">
            <span>Library path</span>
            <input
              type="text"
              value={base.libraryPath}
              placeholder="/path/to/liballocator.so"
              spellCheck={false}
              onChange={(e) => setBase({ strategy: 'user', libraryPath: e.target.value })}
              data-testid="allocator-user-path"
              className="wide mono"
            />
            <span className="muted">absolute path of a shared object</span>
          </label>
        )}
        {base.strategy === 'arena' && (
          <NumberField
            label="Arena capacity"
            value={base.capacityBytes / 1024}
            min={4}
            testId="allocator-arena-capacity"
            suffix="KiB"
            onChange={(v) =>
              setBase({ strategy: 'arena', capacityBytes: Math.round((v ?? 0) * 1024) })
            }
          />
        )}
        {base.strategy === 'pool' && (
          <>
            <label className="field">
              <span>Size classes</span>
              <input
                type="text"
                value={poolText}
                onChange={(e) => {
                  setPoolText(e.target.value);
                  const l = parseList(e.target.value);
                  if (l) setBase({ ...base, classes: l });
                }}
                data-testid="allocator-pool-classes"
                className="wide"
              />
              <span className="muted">bytes, ascending, multiples of 16</span>
            </label>
            <NumberField
              label="Blocks per slab"
              value={base.blocksPerSlab}
              min={1}
              testId="allocator-pool-blocks"
              onChange={(v) => setBase({ ...base, blocksPerSlab: v ?? 1 })}
            />
          </>
        )}
        {base.strategy === 'guard' && (
          <NumberField
            label="Red zone"
            value={base.redZoneBytes}
            min={1}
            max={4096}
            testId="allocator-guard-redzone"
            suffix="bytes each side (rounded up to 16)"
            onChange={(v) => setBase({ strategy: 'guard', redZoneBytes: v ?? 16 })}
          />
        )}
        {base.strategy === 'heap' && <span className="muted">No options: libc malloc/free.</span>}
      </div>
      <label className="check fault-toggle">
        <input
          type="checkbox"
          checked={faulty !== null}
          onChange={(e) =>
            onChange(
              e.target.checked
                ? {
                    strategy: 'faulty',
                    inner: base,
                    failProbability: DEFAULT_FAULTY_PROBABILITY,
                    seed: DEFAULT_FAULTY_SEED,
                  }
                : base,
            )
          }
          data-testid="allocator-faulty"
        />
        <b>Fault injection</b>
        <span className="muted">{STRATEGY_INFO.faulty.description}</span>
      </label>
      {faulty && (
        <div className="strategy-options">
          <label className="field">
            <span>Fail attempts #</span>
            <input
              type="text"
              value={nthText}
              placeholder="e.g. 3, 10"
              onChange={(e) => {
                setNthText(e.target.value);
                const l = e.target.value.trim() === '' ? [] : parseList(e.target.value);
                if (l) setFaulty({ failNth: l.length ? l : undefined });
              }}
              data-testid="allocator-fail-nth"
            />
          </label>
          <NumberField
            label="Probability"
            value={faulty.failProbability}
            min={0}
            max={1}
            step={0.01}
            testId="allocator-fail-probability"
            onChange={(v) => setFaulty({ failProbability: v })}
          />
          <NumberField
            label="Seed"
            value={faulty.seed}
            min={0}
            testId="allocator-fail-seed"
            onChange={(v) => setFaulty({ seed: v })}
          />
          <NumberField
            label="Budget"
            value={faulty.budgetBytes}
            min={0}
            placeholder="none"
            testId="allocator-fail-budget"
            suffix="live bytes"
            onChange={(v) => setFaulty({ budgetBytes: v })}
          />
        </div>
      )}
      <div
        className={`allocator-summary${parsed.ok ? '' : ' invalid'}`}
        id="allocator-summary"
        role={parsed.ok ? undefined : 'alert'}
        data-testid="allocator-summary"
      >
        {parsed.ok ? describeOptions(parsed.value) : parsed.error}
      </div>
    </div>
  );
}

export function CapturePanel() {
  const form = useApp((s) => s.captureForm);
  const setForm = useApp((s) => s.setCaptureForm);
  const selectedPid = useApp((s) => s.selectedPid);
  const proc = useApp((s) => s.processes.rows.find((r) => r.pid === s.selectedPid) ?? null);
  const { capturing, captureError, controlPending, sessionError } = useAppShallow((s) => ({
    capturing: s.capturing,
    captureError: s.captureError,
    controlPending: s.controlPending,
    sessionError: s.sessionError,
  }));
  const snapshots = useApp((s) => s.snapshots);
  const requestedTarget = useApp((s) => s.walkTarget);
  const setWalkTarget = useApp((s) => s.setWalkTarget);
  const ownSnapshots = useMemo(
    () => snapshots.filter((s) => s.pid === selectedPid),
    [snapshots, selectedPid],
  );
  // A snapshot of another process (or one freed since) is not a target here.
  const walkTarget = ownSnapshots.some((s) => s.snapshotId === requestedTarget)
    ? requestedTarget
    : 'live';
  const allocOk = parseAllocatorOptions(form.allocator).ok;

  if (selectedPid === null) {
    return (
      <section className="view" data-testid="view-capture">
        <Empty title="No process selected" testId="capture-empty">
          Pick a process first.{' '}
          <button
            onClick={() => useApp.getState().setTab('processes')}
            data-testid="capture-go-processes"
          >
            Choose a process
          </button>
        </Empty>
      </section>
    );
  }

  const toggle = (bit: number): void => setForm({ flags: (form.flags ^ bit) >>> 0 });
  const toggleClass = (c: (typeof WALKABLE_CLASSES)[number]): void => {
    const has = form.classes.includes(c);
    const next = has
      ? form.classes.filter((x) => x !== c)
      : WALKABLE_CLASSES.filter((x) => x === c || form.classes.includes(x));
    setForm({ classes: next });
  };
  const paced = form.pace.mode === 'paced';
  const rate = form.pace.mode === 'paced' ? form.pace.entriesPerSecond : 20;
  const setForm2 = (p: Partial<CaptureForm>): void => setForm(p);

  return (
    <section className="view capture-panel" data-testid="view-capture">
      <div className="capture-target">
        <div>
          <div className="muted small">Target</div>
          <div className="target-name" data-testid="capture-target">
            {proc ? proc.name : 'process'} <span className="muted">pid {selectedPid}</span>
          </div>
          {proc && (
            <div className="muted small">
              {proc.user} · {plural(proc.threads, 'thread')} · {formatBytes(proc.rssBytes)} resident
              {!proc.inspectable && (
                <span className="badge no"> not inspectable: {proc.reason}</span>
              )}
            </div>
          )}
        </div>
        <span className="spacer" />
        <button
          className="primary"
          aria-disabled={capturing}
          onClick={() => {
            if (!capturing) void captureSnapshot(selectedPid, form.flags);
          }}
          data-testid="capture-button"
          title="PssCaptureSnapshot with these flags, then open the snapshot explorer"
        >
          {capturing ? 'Capturing…' : 'Capture snapshot'}
        </button>
        <select
          value={walkTarget}
          onChange={(e) => setWalkTarget(e.target.value)}
          data-testid="walk-target"
          aria-label="Walk target"
        >
          <option value="live">walk a new capture</option>
          {ownSnapshots.map((s) => (
            <option key={s.snapshotId} value={s.snapshotId}>
              walk snapshot {s.snapshotId} ({formatEpochMs(s.capturedAtMs).slice(11)})
            </option>
          ))}
        </select>
        <button
          className="primary"
          disabled={form.classes.length === 0 || !allocOk}
          aria-disabled={controlPending === 'start'}
          onClick={() => {
            if (controlPending === 'start') return;
            void startSession(
              walkTarget === 'live' ? { pid: selectedPid } : { snapshotId: walkTarget },
              form,
            );
          }}
          data-testid="start-session-button"
          aria-describedby="allocator-summary"
          title="Create walk markers with this allocator and watch every allocation live"
        >
          {controlPending === 'start'
            ? 'Starting…'
            : walkTarget === 'live'
              ? 'Start walk ▶'
              : `Walk snapshot ${walkTarget} ▶`}
        </button>
      </div>
      {captureError && (
        <ErrorBox
          error={captureError}
          testId="capture-error"
          onDismiss={() => useApp.getState().setCapturing(false)}
        />
      )}
      {sessionError && (
        <ErrorBox
          error={sessionError}
          testId="session-start-error"
          onDismiss={() => useApp.getState().setSessionError(null)}
        />
      )}
      <div className="capture-grid">
        <fieldset className="card">
          <legend>Capture flags</legend>
          <div className="muted small">
            PSS_CAPTURE_* ={' '}
            <span className="mono" data-testid="capture-flags-value">
              0x{form.flags.toString(16).padStart(8, '0')}
            </span>{' '}
            <button
              className="link"
              onClick={() => setForm({ flags: DEFAULT_CAPTURE_FLAGS })}
              data-testid="flags-default"
            >
              defaults
            </button>
          </div>
          {CAPTURE_FLAGS.map((f) => (
            <FlagBox key={f.name} {...f} flags={form.flags} onToggle={toggle} />
          ))}
          <div className="subhead">Create options</div>
          {CREATE_FLAGS.map((f) => (
            <FlagBox key={f.name} {...f} flags={form.flags} onToggle={toggle} />
          ))}
          <div className="subhead">Inspection details (captured at the same moment)</div>
          <label
            className="check flag"
            title="Read /proc/PID/smaps with the VA space: Working set, Private/Shared WS, PSS, Dirty, Swap, Locked per region. Several times slower than the maps read alone."
          >
            <input
              type="checkbox"
              checked={form.usage}
              disabled={(form.flags & PssCaptureFlags.VA_SPACE) === 0}
              onChange={(e) => setForm({ usage: e.target.checked })}
              data-testid="capture-usage"
            />
            <span className="flag-name">Memory usage</span>
            <span className="muted">
              per-region working set, PSS, swap… from smaps (slower; needs VA_SPACE)
            </span>
          </label>
        </fieldset>
        <div className="capture-right">
          <fieldset className="card">
            <legend>Walk allocator (PSS_ALLOCATOR)</legend>
            <AllocatorEditor value={form.allocator} onChange={(a) => setForm({ allocator: a })} />
          </fieldset>
          <fieldset className="card">
            <legend>Walk</legend>
            <div className="row wrap" role="group" aria-labelledby="walk-classes-label">
              <span className="label" id="walk-classes-label">
                Classes
              </span>
              {WALKABLE_CLASSES.map((c) => (
                <label key={c} className="check">
                  <input
                    type="checkbox"
                    checked={form.classes.includes(c)}
                    onChange={() => toggleClass(c)}
                    data-testid={`class-${c}`}
                  />
                  {CLASS_LABELS[c]}
                </label>
              ))}
            </div>
            <div className="row wrap" role="group" aria-labelledby="walk-pace-label">
              <span className="label" id="walk-pace-label">
                Pace
              </span>
              <label className="check">
                <input
                  type="radio"
                  name="pace"
                  checked={!paced}
                  onChange={() => setForm2({ pace: { mode: 'run' } })}
                  data-testid="pace-mode-run"
                />
                Run to completion
              </label>
              <label className="check">
                <input
                  type="radio"
                  name="pace"
                  checked={paced}
                  onChange={() => setForm2({ pace: { mode: 'paced', entriesPerSecond: rate } })}
                  data-testid="pace-mode-paced"
                />
                Paced
              </label>
              <input
                type="number"
                min={0.1}
                max={1_000_000}
                step="any"
                value={rate}
                disabled={!paced}
                onChange={(e) =>
                  setForm2({
                    pace: {
                      mode: 'paced',
                      entriesPerSecond: Math.max(0.1, Number(e.target.value) || 1),
                    },
                  })
                }
                data-testid="pace-rate"
                aria-label="Entries per second"
              />
              <span className="muted">entries / s</span>
            </div>
            <div className="row wrap">
              <label className="label" htmlFor="walk-on-failure">
                On failed alloc
              </label>
              <select
                id="walk-on-failure"
                value={form.onAllocFailure}
                onChange={(e) =>
                  setForm2({ onAllocFailure: e.target.value === 'retry' ? 'retry' : 'stop' })
                }
                data-testid="on-failure"
              >
                <option value="stop">stop the walk (report the error)</option>
                <option value="retry">retry the call</option>
              </select>
              <label className="label" htmlFor="walk-passes">
                Passes
              </label>
              <input
                id="walk-passes"
                type="number"
                min={1}
                max={1000}
                step={1}
                value={form.passes}
                onChange={(e) =>
                  setForm2({
                    passes: Math.min(1000, Math.max(1, Math.round(Number(e.target.value) || 1))),
                  })
                }
                data-testid="walk-passes"
                title="Walk every class this many times, seeking to the beginning in between"
              />
              <button
                className="link"
                onClick={() => setForm(DEFAULT_CAPTURE_FORM)}
                data-testid="capture-reset"
              >
                reset all
              </button>
            </div>
          </fieldset>
          <div className="card walk-explain" data-testid="walk-explain">
            <div className="card-title">What a walk does</div>
            <ol>
              <li>
                <code>PssCaptureSnapshot</code> with the flags on the left (or reuses the chosen
                snapshot).
              </li>
              <li>
                One <code>PssWalkMarkerCreate</code> with your <code>PSS_ALLOCATOR</code>, then{' '}
                <code>PssWalkSnapshot</code> once per entry of each class at the chosen pace (
                <code>PssWalkMarkerSeekToBeginning</code> between passes), then{' '}
                <code>PssWalkMarkerFree</code>.
              </li>
              <li>
                Every <code>AllocRoutine</code> / <code>FreeRoutine</code> call the API makes is
                traced: the Walk and Allocations tabs show each one as it happens, with contract
                checks (thread, NULL frees, leaks, guard zones).
              </li>
            </ol>
          </div>
        </div>
      </div>
    </section>
  );
}
