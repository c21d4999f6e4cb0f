/**
 * Web mode's front door, in a real browser: the per-run token (HTTP 403, WebSocket refused),
 * the CSP on the page, and a WebSocket that survives malformed messages.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSP_HEADER, CSP_META } from '../src-shared/contract/csp';
import { ROOT, startWebMode, type WebMode } from './support/web-mode';

let web: WebMode;
test.beforeAll(async () => {
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
});

test('prints a loopback URL with a long random token', () => {
  expect(web.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(web.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test('a bad token is refused: HTTP 403 and the WebSocket upgrade fails', async ({
  page,
  request,
}) => {
  expect((await request.get(`${web.origin}/`)).status()).toBe(403);
  expect((await request.get(`${web.origin}/?token=wrong`)).status()).toBe(403);
  expect((await request.get(`${web.origin}/assets/x.js`)).status()).toBe(403);
  const bad = await page.goto(`${web.origin}/?token=wrong`);
  expect(bad?.status()).toBe(403);
  expect(bad?.headers()['content-security-policy']).toBe(CSP_HEADER);
  const host = new URL(web.origin).host;
  const outcome = await page.evaluate(
    ([h, path]) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${h}${path}?token=wrong`);
        ws.onopen = () => resolve('open');
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      }),
    [host, '/pss-ws'] as const,
  );
  expect(outcome).toBe('closed 1006');
  // Without any token or cookie either.
  const none = await page.evaluate(
    (h) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${h}/pss-ws`);
        ws.onopen = () => resolve('open');
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      }),
    host,
  );
  expect(none).toBe('closed 1006');
});

test('the right token loads the app with its CSP, sets the cookie, and opens the socket', async ({
  page,
  context,
}) => {
  const res = await page.goto(web.url);
  expect(res?.status()).toBe(200);
  const h = res?.headers() ?? {};
  expect(h['content-security-policy']).toBe(CSP_HEADER);
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['cross-origin-opener-policy']).toBe('same-origin');
  const cookies = await context.cookies(web.origin);
  // One cookie name per port: a second instance on another port keeps its own.
  const port = new URL(web.origin).port;
  expect(cookies.find((c) => c.name === `pss_token_${port}`)).toMatchObject({
    httpOnly: true,
    sameSite: 'Strict',
    value: web.token,
  });
  // The page itself carries the same policy as a meta tag.
  const html = readFileSync(join(ROOT, 'out', 'renderer', 'index.html'), 'utf8');
  const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
  expect(meta?.[1]?.replace(/&#39;/g, "'")).toBe(CSP_META);
  // With the cookie, a later load without the token works too.
  expect((await page.goto(`${web.origin}/`))?.status()).toBe(200);
});

test('a malformed WebSocket message gets an error reply and the connection survives', async ({
  page,
}) => {
  await page.goto(web.url);
  const results = await page.evaluate(
    (h) =>
      new Promise<unknown[]>((resolve, reject) => {
        const ws = new WebSocket(`ws://${h}/pss-ws`);
        ws.binaryType = 'arraybuffer';
        const got: unknown[] = [];
        const sends: (string | ArrayBuffer)[] = [
          'this is not json',
          JSON.stringify({ t: 'req', id: 7, name: 'capture', params: { pid: 'x', flags: 0 } }),
          JSON.stringify({ t: 'req', id: 8, name: 'noSuchRequest', params: {} }),
          new Uint8Array([255, 255, 255, 255, 1, 2, 3]).buffer,
          JSON.stringify({ t: 'req', id: 9, name: 'appInfo', params: {} }),
        ];
        ws.onopen = () => {
          for (const s of sends) ws.send(s);
        };
        ws.onmessage = (e) => {
          got.push(typeof e.data === 'string' ? JSON.parse(e.data) : 'binary');
          if (got.length === sends.length) {
            resolve(got);
            ws.close();
          }
        };
        ws.onclose = (e) => {
          if (got.length < sends.length) reject(new Error(`closed early (${e.code})`));
        };
        setTimeout(() => reject(new Error(`only ${got.length} answers`)), 10_000);
      }),
    new URL(web.origin).host,
  );
  // Replies come when their request is served; error pushes at once: match them by kind and id.
  const pushes = results.filter((r) => (r as { t: string }).t === 'push');
  const rep = (id: number) => results.find((r) => (r as { id?: number }).id === id);
  expect(pushes).toHaveLength(2);
  expect(pushes[0]).toMatchObject({
    name: 'error',
    msg: { sessionId: null, error: { kind: 'validation', message: /not valid JSON/ } },
  });
  expect(pushes[1]).toMatchObject({ name: 'error', msg: { error: { kind: 'validation' } } });
  expect(rep(7)).toMatchObject({
    t: 'rep',
    reply: { ok: false, error: { kind: 'validation', message: /params\.pid/ } },
  });
  expect(rep(8)).toMatchObject({
    t: 'rep',
    reply: { ok: false, error: { kind: 'validation', message: /unknown request/ } },
  });
  expect(rep(9)).toMatchObject({
    t: 'rep',
    reply: { ok: true, value: { name: 'PSS Inspector', transport: 'web' } },
  });
});
