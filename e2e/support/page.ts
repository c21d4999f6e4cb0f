/** Puts the page-side helpers (out/e2e/pss-page.js) into a page as a same-origin script. */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { PAGE_BUNDLE } from './global-setup';

export const HELPER_PATH = '/__pss-e2e/pss-page.js';

/** Serves the helper bundle at HELPER_PATH on the page's origin and loads it: the page's CSP stays as it is. */
export async function injectPageHelpers(page: Page, origin: string): Promise<void> {
  const body = readFileSync(PAGE_BUNDLE, 'utf8');
  await page.route(`${origin}${HELPER_PATH}`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body }),
  );
  await page.addScriptTag({ url: `${origin}${HELPER_PATH}` });
  await page.waitForFunction(
    () => typeof (globalThis as { PssPage?: unknown }).PssPage === 'object',
  );
}
