/** What a crashed walk child's session error says about lost events (lossText). */
import { describe, expect, it } from 'vitest';
import { lossText } from './child';

const rec = (n: number): Uint8Array => new Uint8Array(n * 48);

describe('lossText', () => {
  it('says that none were lost, and how many came from the ring file', () => {
    expect(
      lossText({ records: rec(3), firstSeq: 7, written: 10, lost: 0, lostAfterGap: 0 }, 7),
    ).toBe(
      'No events were lost: all 10 it wrote were delivered (3 of them recovered from its ring file after the crash).',
    );
    expect(
      lossText({ records: rec(0), firstSeq: 10, written: 10, lost: 0, lostAfterGap: 0 }, 10),
    ).toMatch(/all 10 it wrote were delivered \(none had to be recovered/);
  });

  it('names exactly how many were lost and which seqs', () => {
    const text = lossText(
      { records: rec(0), firstSeq: 1000, written: 16384, lost: 15384, lostAfterGap: 8192 },
      1000,
    );
    expect(text).toMatch(/^15384 of the 16384 events it wrote were lost \(seqs 1000–16383\)/);
    expect(text).toMatch(/8192 of them were still in the ring but after that gap/);
    expect(text).toMatch(/The 1000 delivered events are complete up to there\.$/);
    expect(
      lossText({ records: rec(2), firstSeq: 5, written: 8, lost: 1, lostAfterGap: 0 }, 5),
    ).toMatch(/^1 of the 8 events it wrote were lost \(seq 7\)/);
  });

  it('says when the count is unknown', () => {
    expect(lossText(null, 42)).toBe(
      'How many events were lost is unknown: its event ring file could not be read; 42 events were delivered.',
    );
  });
});
