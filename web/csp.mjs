// Trunk post-build hook: gives the built index.html its Content-Security-Policy.
//
// The policy allows only what the page needs: its own scripts, styles and worker, the
// WebAssembly they instantiate, and the inline module script Trunk writes to start the app,
// allowed by its SHA-256 hash (the hash is of the built file, so it is computed here, after
// Trunk has written and minified it). Style attributes are allowed because the timeline
// positions blocks with them; no inline <style>, no inline event handlers, no other origin.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const file = path.join(process.env.TRUNK_STAGING_DIR ?? 'dist', 'index.html');
const html = fs.readFileSync(file, 'utf8');

// Inline scripts: <script ...> without src, up to </script>.
const inline = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
  .filter(([, attrs]) => !/\bsrc\s*=/i.test(attrs))
  .map(([, , body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);

export const policy = [
  "default-src 'none'",
  `script-src 'self' 'wasm-unsafe-eval' ${inline.join(' ')}`.trim(),
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

if (/http-equiv=["']?Content-Security-Policy/i.test(html)) {
  throw new Error(`${file} already has a Content-Security-Policy`);
}
// First in <head>: a policy applies only to what comes after it.
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}">`;
const out = html.replace(/<head([^>]*)>/i, (m) => `${m}${meta}`);
if (out === html) throw new Error(`${file} has no <head>`);
fs.writeFileSync(file, out);
console.log(`csp.mjs: ${inline.length} inline script(s) hashed into the policy`);
