import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, collectErrors, screenshot } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the page loads and mounts the app without errors', async () => {
  const page = await browser.newPage();
  const errors = collectErrors(page);
  await page.goto(server.url + '/');
  await page.locator('#app-root').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#app-root h1').textContent(), 'smmu-playground');
  await screenshot(page, 'smoke');
  assert.deepEqual(errors, []);
});
