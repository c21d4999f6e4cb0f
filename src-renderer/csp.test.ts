import { describe, expect, it } from 'vitest';
import { CSP_META } from '../src-shared/contract/csp';
import html from './index.html?raw';

describe('index.html', () => {
  it('carries exactly the shared CSP as a meta tag, and no inline script or style', () => {
    const m = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(m?.[1]).toBe(CSP_META);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
  });
});
