/**
 * Everything the inspection details say about one thread, handle or region, in full: every
 * value, and for each value that is not available the reason, in words (the table cells only
 * have room for "n/a").
 */
import type { ReactNode } from 'react';
import {
  decodeOpenFlags,
  isNa,
  USAGE_FIELDS,
  type Maybe,
  type RegionUsage,
} from '../../src-shared/pss/details';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { formatBytes, formatCount, formatFileTime, formatHundredNs } from '../lib/format';
import { kindText } from '../data/entryColumns';

type Row = [string, ReactNode];

function show<T>(v: Maybe<T>, text: (x: T) => ReactNode = (x) => String(x)): ReactNode {
  return isNa(v) ? (
    <span className="na" title={v.na}>
      n/a — {v.na}
    </span>
  ) : (
    text(v)
  );
}

const USAGE_LABELS: Record<keyof RegionUsage, string> = {
  rss: 'Rss (working set)',
  pss: 'Pss',
  pssDirty: 'Pss dirty',
  pssAnon: 'Pss anonymous',
  pssFile: 'Pss file',
  pssShmem: 'Pss shmem',
  sharedClean: 'Shared clean',
  sharedDirty: 'Shared dirty',
  privateClean: 'Private clean',
  privateDirty: 'Private dirty',
  referenced: 'Referenced',
  anonymous: 'Anonymous',
  lazyFree: 'Lazy free',
  anonHugePages: 'Anon huge pages',
  shmemPmdMapped: 'Shmem PMD mapped',
  sharedHugetlb: 'Shared hugetlb',
  privateHugetlb: 'Private hugetlb',
  swap: 'Swap',
  swapPss: 'Swap Pss',
  locked: 'Locked',
};

/** Counters smaps prints only for the whole process (smaps_rollup), never per region. */
const ROLLUP_ONLY = new Set<keyof RegionUsage>(['pssAnon', 'pssFile', 'pssShmem']);

export function usageRows(u: RegionUsage, perRegion = true): Row[] {
  return USAGE_FIELDS.map((f) => {
    const why =
      perRegion && ROLLUP_ONLY.has(f)
        ? 'the kernel reports it only for the whole process (smaps_rollup)'
        : 'not reported by this kernel';
    return [
      USAGE_LABELS[f],
      u[f] === null ? (
        <span className="na" title={why}>
          n/a — {why}
        </span>
      ) : (
        formatBytes(u[f])
      ),
    ];
  });
}

function rowsOf(e: WalkEntry): { title: string; rows: Row[] } | null {
  if (e.kind === 'page') return null;
  const d = e.details;
  if (d === undefined) return null;
  if (isNa(d)) return { title: 'Details', rows: [['Not available', show(d)]] };
  switch (e.kind) {
    case 'thread': {
      const t = e.details as Exclude<typeof e.details, undefined>;
      if (isNa(t)) return null;
      return {
        title: `Thread ${e.threadId} — ${t.name}`,
        rows: [
          ['State', `${t.state} (${t.stateCode})`],
          ['Wait channel', show(t.waitChannel)],
          [
            'System call',
            show(t.syscall, (s) =>
              s.number < 0
                ? 'none: in the kernel outside a system call (e.g. a page fault)'
                : `${s.name ?? '?'} (${s.number}) — args ${s.args.join(', ')}`,
            ),
          ],
          ['Stack pointer', show(t.stackPointer)],
          ['Instruction pointer', show(t.instructionPointer)],
          ['CPU time', show(t.cpuTime, formatHundredNs)],
          ['Waiting for a CPU', show(t.runDelay, formatHundredNs)],
          ['Nice / kernel priority', `${t.nice} / ${t.kernelPriority}`],
          ['Policy', t.rtPriority ? `${t.policy} (RT priority ${t.rtPriority})` : t.policy],
          ['Affinity (CPUs)', show(t.affinity)],
          ['Last ran on CPU', t.lastCpu],
          [
            'Context switches',
            `${formatCount(t.voluntarySwitches)} voluntary, ${formatCount(t.involuntarySwitches)} involuntary`,
          ],
        ],
      };
    }
    case 'handle': {
      const h = e.details as Exclude<typeof e.details, undefined>;
      if (isNa(h)) return null;
      const rows: Row[] = [
        ['Kind', h.kind],
        [
          'Access',
          show(h.openFlags, (f) => `${decodeOpenFlags(f).join(', ')} (flags 0${f.toString(8)})`),
        ],
        ['Position', show(h.position, formatCount)],
        ['Inode', show(h.inode)],
        ['Device', show(h.device)],
        ['Size', show(h.size, formatBytes)],
        ['Created', show(h.created, formatFileTime)],
      ];
      if (h.kind === 'socket') {
        rows.push([
          'Socket',
          show(h.socket, (s) => (
            <>
              {s.family} {s.protocol}
              {s.state ? ` ${s.state}` : ''}; local {s.local || '(unbound)'}
              {s.remote ? `; remote ${s.remote}` : ''}; queues rx {s.receiveQueue} tx {s.sendQueue}
              {s.peerInode !== null ? `; peer socket inode ${s.peerInode}` : ''}
            </>
          )),
        ]);
      }
      if (h.kind === 'socket' || h.kind === 'pipe')
        rows.push([
          'Other end',
          show(
            h.peer,
            (p) =>
              `${p.name} (pid ${p.pid}) holds it as fd ${p.fd}${p.count > 1 ? `; ${p.count} holders in all` : ''}`,
          ),
        ]);
      return { title: `Handle ${e.handle} — ${e.objectName}`, rows };
    }
    case 'region': {
      const r = e.details as Exclude<typeof e.details, undefined>;
      if (isNa(r)) return null;
      return {
        title: `Region ${e.baseAddress} — ${kindText(e)}`,
        rows: [
          ['Size', formatBytes(e.regionSize)],
          ...(isNa(r.usage) ? [['Usage', show(r.usage)] as Row] : usageRows(r.usage)),
          ['VmFlags', r.vmFlags.join(' ') || '—'],
        ],
      };
    }
    default:
      return null;
  }
}

export function DetailsPane({ entry, onClose }: { entry: WalkEntry | null; onClose(): void }) {
  if (!entry) return null;
  const content = rowsOf(entry);
  if (!content) return null;
  return (
    <aside className="details-pane card" data-testid="details-pane" aria-label="Details">
      <div className="details-head">
        <div className="card-title">{content.title}</div>
        <button className="link" onClick={onClose} data-testid="details-close">
          close
        </button>
      </div>
      <dl className="kv">
        {content.rows.map(([k, v]) => (
          <div className="kv-row" key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </aside>
  );
}
