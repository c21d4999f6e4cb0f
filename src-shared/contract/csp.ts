/**
 * The one Content-Security-Policy of the renderer, used three times: the <meta> tag in
 * src-renderer/index.html (CSP_META, which must match exactly: the web server test checks the
 * built page), the Electron session's response headers and every web-mode response (CSP_HEADER).
 *
 * No inline scripts or styles, no eval, no remote anything: scripts, styles, fonts and workers
 * come from the app itself; 'self' in connect-src also admits the same-origin WebSocket of web
 * mode. Element style properties set from script (React `style={…}`) are not affected.
 */
const DIRECTIVES = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
];

/** For <meta http-equiv="Content-Security-Policy" content="…"> (frame-ancestors is header-only). */
export const CSP_META = DIRECTIVES.join('; ');

/** For the Content-Security-Policy response header. */
export const CSP_HEADER = [...DIRECTIVES, "frame-ancestors 'none'"].join('; ');
