/** Columns of the event log and the problems list: rows are seqs into the session's columns. */
import type { ColumnSpec } from '../data/entryColumns';
import { CLASS_NAMES, API_SHORT, eventDetail, kindLabel } from '../data/eventText';
import { formatBytes, formatNs, hexNumber } from '../lib/format';
import { sessionData } from '../session/sessionData';

function cols() {
  return sessionData()?.columns ?? null;
}

export const EVENT_COLUMNS: ColumnSpec<number>[] = [
  {
    id: 'seq',
    label: '#',
    width: 76,
    minWidth: 40,
    align: 'right',
    mono: true,
    text: (s) => String(s),
    sortKey: (s) => s,
  },
  {
    id: 'time',
    label: 'Time',
    width: 82,
    minWidth: 72,
    drop: 4,
    align: 'right',
    text: (s) => formatNs(cols()?.timeNs.get(s) ?? 0),
    sortKey: (s) => s,
  },
  {
    id: 'op',
    label: 'Operation',
    width: 112,
    minWidth: 96,
    text: (s) => kindLabel(cols()?.kind.get(s) ?? 0),
    sortKey: (s) => cols()?.kind.get(s) ?? 0,
  },
  {
    id: 'size',
    label: 'Size',
    width: 70,
    align: 'right',
    text: (s) => {
      const v = cols()?.size.get(s) ?? 0;
      return v ? String(v) : '';
    },
    sortKey: (s) => cols()?.size.get(s) ?? 0,
  },
  {
    id: 'address',
    label: 'Address',
    width: 118,
    minWidth: 118,
    mono: true,
    text: (s) => {
      const a = cols()?.address.get(s) ?? 0;
      return a ? hexNumber(a) : '';
    },
    sortKey: (s) => cols()?.address.get(s) ?? 0,
  },
  {
    id: 'api',
    label: 'API',
    width: 110,
    minWidth: 96,
    drop: 2,
    text: (s) => API_SHORT[cols()?.api.get(s) ?? 0] ?? '',
    sortKey: (s) => cols()?.api.get(s) ?? 0,
  },
  {
    id: 'class',
    label: 'Class',
    width: 92,
    minWidth: 80,
    drop: 1,
    text: (s) => CLASS_NAMES[cols()?.cls.get(s) ?? 255] ?? '',
    sortKey: (s) => cols()?.cls.get(s) ?? 0,
  },
  {
    id: 'live',
    label: 'Live after',
    width: 82,
    minWidth: 82,
    drop: 3,
    align: 'right',
    text: (s) => {
      const d = sessionData();
      return d && s < d.analysis.frontier ? formatBytes(d.analysis.liveAt(s)) : '';
    },
    sortKey: (s) => s,
  },
  {
    id: 'detail',
    label: 'Detail',
    width: 260,
    minWidth: 120,
    text: (s) => {
      const c = cols();
      return c ? eventDetail(c, s) : '';
    },
    sortKey: (s) => s,
  },
];
