/** The browser the e2e tests and the web-delivery bench drive: Debian's Chromium, never a download. */
import { existsSync } from 'node:fs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumPath(): string {
  const candidates = [process.env.PSS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  // Playwright reports this path when it cannot launch; the message says what to do.
  return process.env.PSS_CHROMIUM ?? '/usr/bin/chromium (missing: apt-get install -y chromium)';
}
