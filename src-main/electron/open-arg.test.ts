import { describe, expect, it } from 'vitest';
import { openTraceArg } from './open-arg';

describe('openTraceArg', () => {
  it('reads --open FILE from a second instance argv, against its working directory', () => {
    expect(openTraceArg(['/opt/PSS/pss-inspector', '--open', 'traces/a.pstrace'], '/home/u')).toBe(
      '/home/u/traces/a.pstrace',
    );
    expect(openTraceArg(['/opt/PSS/pss-inspector', '--open=/t/b.pstrace'], '/home/u')).toBe(
      '/t/b.pstrace',
    );
    expect(openTraceArg(['/opt/PSS/pss-inspector'], '/home/u')).toBeNull();
    expect(openTraceArg(['/opt/PSS/pss-inspector', '--open'], '/home/u')).toBeNull();
  });
});
