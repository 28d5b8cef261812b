// Shared E2E helpers: a static server for the release build in ../../dist and a
// headless Chromium driven by playwright-core (the system browser, no download).
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const dist = path.resolve(here, '../../dist');
export const artifacts = path.join(here, 'artifacts');

/**
 * The path of the release `smmu-sim` binary, built by cargo (a no-op when it is fresh) and
 * taken from cargo's own messages, so it is found wherever CARGO_TARGET_DIR puts it.
 */
export function cliBinary() {
  const out = execFileSync('cargo', ['build', '--release', '-q', '-p', 'smmu-cli', '--message-format=json'], {
    cwd: path.resolve(here, '../..'),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const artifact = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((m) => m.reason === 'compiler-artifact' && m.target?.name === 'smmu-sim' && m.executable);
  if (!artifact) throw new Error('cargo built no smmu-sim binary');
  return artifact.executable;
}

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
const compressible = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.svg']);

// Resolves a URL path inside dist/; unknown paths fall back to index.html (SPA routing).
async function resolveFile(urlPath) {
  const file = path.join(dist, path.normalize(decodeURIComponent(urlPath)));
  if (file !== dist && !file.startsWith(dist + path.sep)) return null;
  try {
    const stat = await fs.stat(file);
    return stat.isDirectory() ? path.join(file, 'index.html') : file;
  } catch {
    return path.join(dist, 'index.html');
  }
}

/** Serves dist/ on 127.0.0.1 at a free port. Resolves to { url, close }. */
export async function startServer() {
  await fs.access(path.join(dist, 'index.html')).catch(() => {
    throw new Error(`${dist}/index.html is missing: run \`trunk build --release --offline\` first`);
  });
  const server = http.createServer(async (req, res) => {
    const file = await resolveFile(new URL(req.url, 'http://localhost').pathname);
    if (!file) return res.writeHead(403).end();
    let body;
    try {
      body = await fs.readFile(file);
    } catch {
      return res.writeHead(404).end();
    }
    const ext = path.extname(file);
    const headers = { 'content-type': types[ext] ?? 'application/octet-stream', vary: 'accept-encoding' };
    if (compressible.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      body = zlib.gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    res.writeHead(200, headers).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Launches the system Chromium headless, with a fresh temporary profile. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects page errors, console errors and failed HTTP responses of a page. */
export function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
  return errors;
}

/** Saves a screenshot (the full page, or just `locator`) to artifacts/<name>.png and returns its path. */
export async function screenshot(page, name, locator = null) {
  await fs.mkdir(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await (locator ? locator.screenshot({ path: file }) : page.screenshot({ path: file, fullPage: true }));
  return file;
}

/**
 * Starts the static server and the browser before a test file's tests and stops them after.
 * Returns an object whose `server` and `browser` are set once the tests run.
 */
export function useServerAndBrowser() {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

/**
 * The longest any condition may take before a test fails. Only a cap: tests go on as soon as
 * their condition holds, so a busy machine makes them slower, never wrong.
 */
export const PATIENCE = { timeout: 120000 };

/** Opens a URL and waits until the playground has rendered its timeline. */
export async function load(page, url, selector = '.block') {
  await page.goto(url);
  await page.locator(selector).first().waitFor(PATIENCE);
}

/**
 * Waits until the element's text matches (a string: equals; a RegExp: matches) and returns it.
 * Yew renders after the event that asked for it, so a check right after a key or a click
 * waits for the render instead of reading the DOM at once.
 */
export async function waitText(page, selector, want) {
  const [source, flags] = want instanceof RegExp ? [want.source, want.flags] : [null, null];
  const handle = await page.waitForFunction(
    ({ selector, source, flags, want }) => {
      const text = document.querySelector(selector)?.textContent;
      if (text == null) return false;
      const ok = source === null ? text === want : new RegExp(source, flags).test(text);
      return ok && text;
    },
    { selector, source, flags, want: source === null ? want : null },
    PATIENCE,
  ).catch(async (e) => {
    const now = await page.locator(selector).first().textContent().catch(() => '(absent)');
    throw new Error(`${selector}: waited for ${want}, it reads ${JSON.stringify(now)}: ${e.message}`);
  });
  return handle.jsonValue();
}

/**
 * Waits until the page has written what it shows to the address bar (and saved it): the
 * permalink hook marks `#app-root` with `data-settled` equal to its `data-key`.
 */
export async function settled(page) {
  await page.waitForFunction(() => {
    const root = document.querySelector('#app-root');
    return root && root.dataset.key && root.dataset.settled === root.dataset.key;
  }, null, PATIENCE);
}

/** Pixels per step column of the timeline, as in src/components/timeline.rs. */
export const COL = 132;

/**
 * Drags a timeline block with the mouse to a column (the block's new position among all
 * steps). The mouse only reaches what is in the viewport, so the block is scrolled to first.
 */
export async function dragBlock(page, block, column) {
  await block.scrollIntoViewIfNeeded();
  const box = await block.boundingBox();
  const index = Number(await block.getAttribute('data-index'));
  const trackLeft = box.x - 4 - index * COL;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 20, y);
  await page.mouse.down();
  const target = trackLeft + column * COL + COL / 2;
  await page.mouse.move((box.x + 20 + target) / 2, y, { steps: 4 });
  await page.mouse.move(target, y, { steps: 4 });
  await page.mouse.up();
}

/** Does `action` and waits until the page has re-run the schedule for it (`data-runs`). */
export async function rerun(page, action) {
  const runs = await page.locator('#app-root').getAttribute('data-runs');
  await action();
  await page.waitForFunction((runs) => document.querySelector('#app-root')?.dataset.runs !== runs, runs, PATIENCE);
}

/** A fresh browser context (its own storage) with the page open and its first block drawn. */
export async function openFresh(env, { width = 1280, height = 900, ...options } = {}) {
  const context = await env.browser.newContext({ viewport: { width, height }, ...options });
  context.setDefaultTimeout(PATIENCE.timeout);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/');
  await page.locator('.block').first().waitFor(PATIENCE);
  return { page, errors, context };
}
