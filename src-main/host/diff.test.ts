import { describe, expect, it } from 'vitest';
import { diffEntries } from './diff';
import type {
  HandleEntry,
  ThreadEntry,
  VaSpaceEntry,
  WalkEntry,
} from '../../src-shared/pss/entries';

const thread = (threadId: number, userTime = 0): ThreadEntry =>
  ({ kind: 'thread', threadId, userTime, captureTime: Math.random() }) as unknown as ThreadEntry;
const handle = (fd: number, typeName: string, objectName: string, grantedAccess = 0): HandleEntry =>
  ({
    kind: 'handle',
    handle: fd,
    typeName,
    objectName,
    grantedAccess,
    captureTime: 1,
  }) as unknown as HandleEntry;
const region = (baseAddress: string, regionSize: number): VaSpaceEntry =>
  ({ kind: 'region', baseAddress, regionSize }) as unknown as VaSpaceEntry;

describe('snapshot diff', () => {
  it('matches threads by tid and names changed fields (capture time ignored)', () => {
    const d = diffEntries(
      [thread(1), thread(2, 5), thread(3)],
      [thread(1), thread(2, 9), thread(4)],
    );
    expect(d.unchanged).toBe(1);
    const byChange = (c: string) => d.rows.filter((r) => r.change === c).map((r) => r.key);
    expect(byChange('changed')).toEqual(['tid:2']);
    expect(d.rows.find((r) => r.key === 'tid:2')?.fields).toEqual(['userTime']);
    expect(byChange('added')).toEqual(['tid:4']);
    expect(byChange('removed')).toEqual(['tid:3']);
  });

  it('compares FILETIMEs exactly: one 100-ns unit apart is a change, equal text is not', () => {
    const t = (createTime: string): WalkEntry =>
      ({ kind: 'thread', threadId: 1, createTime }) as unknown as WalkEntry;
    expect(diffEntries([t('134091983171234567')], [t('134091983171234567')]).unchanged).toBe(1);
    const d = diffEntries([t('134091983171234567')], [t('134091983171234568')]);
    expect(d.rows.map((r) => [r.change, r.fields])).toEqual([['changed', ['createTime']]]);
  });

  it('treats a reused handle number with another object as removed + added', () => {
    const d = diffEntries(
      [handle(3, 'File', '/tmp/a'), handle(4, 'File', '/tmp/b')] as WalkEntry[],
      [handle(3, 'Event', 'eventfd'), handle(4, 'File', '/tmp/b', 2)] as WalkEntry[],
    );
    expect(d.rows.map((r) => [r.change, r.key]).sort()).toEqual([
      ['added', 'fd:3:Event:eventfd'],
      ['changed', 'fd:4:File:/tmp/b'],
      ['removed', 'fd:3:File:/tmp/a'],
    ]);
  });

  it('matches regions by base address', () => {
    const d = diffEntries(
      [region('0x1000', 4096)],
      [region('0x1000', 8192), region('0x9000', 4096)],
    );
    expect(d.rows.map((r) => [r.change, r.key, r.fields])).toEqual([
      ['changed', 'va:0x1000', ['regionSize']],
      ['added', 'va:0x9000', []],
    ]);
  });

  it('names the member of the details that changed, not "details"', () => {
    const t = (cpuTime: number, rss: number, state: string): WalkEntry =>
      ({
        kind: 'thread',
        threadId: 1,
        details: { state, cpuTime, usage: { rss, pss: 1 }, waitChannel: { na: 'running' } },
      }) as unknown as WalkEntry;
    const d = diffEntries([t(100, 4096, 'sleeping')], [t(250, 8192, 'sleeping')]);
    expect(d.rows[0]?.fields).toEqual(['details.cpuTime', 'details.usage.rss']);
    // A value that became n/a (or came back) is one change of that member.
    const na = { ...(t(100, 4096, 'sleeping') as object), details: { na: 'thread gone' } };
    expect(diffEntries([t(100, 4096, 'x')], [na as WalkEntry]).rows[0]?.fields).toEqual([
      'details',
    ]);
  });
});
