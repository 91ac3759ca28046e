// The website chat widget in a real browser (Debian's Chromium through playwright-core): a
// page on another origin embeds /widget.js; the visitor writes; an agent's reply through the
// API appears; the Arabic widget is right to left; and after the server is killed and
// restarted, the messages the visitor typed meanwhile are stored exactly once.
//
// Needs the `seam` binary (SEAM_BIN, default target/debug/seam) and Chromium
// (CHROMIUM, default /usr/bin/chromium). Run: (cd web && npm ci) && node web/tests/widget.spec.mjs

import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import {
  api, artifacts, cleanEnv, eventually, freePort, killHard, launchChromium, seamBin, startSeam, EVENTUALLY,
} from './lib.mjs';

const PASSWORD = 'correct horse battery staple';

/** Serves the shop's pages: /en (English) and /ar (Arabic, right to left). */
function pageServer(seamBase, settings) {
  const page = (lang, dir) =>
    `<!doctype html><html lang="${lang}" dir="${dir}"><head><meta charset="utf-8"><title>Shop</title>` +
    // Hostile page styles: the widget's shadow DOM must keep them out.
    `<style>* { color: red !important; } div { direction: ltr; }</style></head>` +
    `<body><h1>Shop</h1>` +
    `<script src="${seamBase}/widget.js" data-channel="${settings.channelId}" async></script></body></html>`;
  const server = http.createServer((request, response) => {
    const body = request.url.startsWith('/ar') ? page('ar', 'rtl') : page('en', 'ltr');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function messagesOf(base, token, conversationId) {
  const found = [];
  let cursor = null;
  do {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const page = await api(base, 'GET', `/api/v1/conversations/${conversationId}/messages${query}`, { token });
    assert.equal(page.status, 200, JSON.stringify(page.json));
    found.push(...page.json.items);
    cursor = page.json.next_cursor;
  } while (cursor);
  return found;
}

/** The visitor's own messages in the widget that the server acknowledged. */
async function ackedTexts(page) {
  return page.locator('.seam-message[data-author="visitor"][data-id]').evaluateAll((nodes) =>
    nodes.map((node) => node.firstChild && node.firstChild.textContent),
  );
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'seam-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const settings = { channelId: '' };
  let seam = await startSeam(dataDir, port);
  let browser;
  const shopServer = await pageServer(base, settings);
  const shop = `http://127.0.0.1:${shopServer.address().port}`;
  try {
    // Arrange: an owner with a token, and a webchat channel allowing the shop's origin.
    execFileSync(seamBin, [
      'user', 'create', '--email', 'owner@acme.example', '--password', PASSWORD, '--name', 'Owner',
      '--role', 'owner', '--workspace', 'Acme', '--region', 'US', '--data', dataDir,
    ], { env: cleanEnv() });
    const login = await api(base, 'POST', '/api/v1/auth/login', {
      body: { email: 'owner@acme.example', password: PASSWORD },
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const created = await api(base, 'POST', '/api/v1/auth/tokens', {
      cookie, csrf: login.json.csrf_token, body: { name: 'browser test' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const token = created.json.token;
    const channel = await api(base, 'POST', '/api/v1/channels', {
      token,
      body: { kind: 'webchat', name: 'Shop site', config: { allowed_origins: [shop] } },
    });
    assert.equal(channel.status, 201, JSON.stringify(channel.json));
    settings.channelId = channel.json.id;
    browser = await launchChromium();

    // 1. The visitor writes; the agent's reply through the API appears in the widget.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(shop + '/en');
    await page.waitForSelector('#seam-chat[data-state="connected"]', { state: 'attached', timeout: EVENTUALLY });
    await page.locator('.seam-launcher').click();
    await page.locator('.seam-input').fill('Hello, is the blue lamp in stock?');
    await page.locator('.seam-input').press('Enter');
    await page.waitForSelector('.seam-message[data-author="visitor"][data-id]', { timeout: EVENTUALLY });
    const conversation = await eventually('the visitor\'s conversation', async () => {
      const list = await api(base, 'GET', '/api/v1/conversations', { token });
      return list.json.items[0];
    });
    const stored = await messagesOf(base, token, conversation.id);
    assert.ok(stored.some((m) => m.text === 'Hello, is the blue lamp in stock?' && m.kind === 'inbound'));
    const pageColour = await page.locator('.seam-message[data-author="visitor"]').first()
      .evaluate((node) => getComputedStyle(node).color);
    assert.notEqual(pageColour, 'rgb(255, 0, 0)', 'the page\'s CSS leaked into the widget');
    const reply = await api(base, 'POST', `/api/v1/conversations/${conversation.id}/messages`, {
      token, body: { text: 'Yes, two are left.' },
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.json));
    // Within a second of the API's answer.
    await page.waitForSelector('.seam-message[data-author="agent"]:has-text("Yes, two are left.")', { timeout: 1000 });
    await eventually('the reply to be read', async () => {
      const all = await messagesOf(base, token, conversation.id);
      return all.find((m) => m.id === reply.json.id && m.delivery_status === 'read');
    });
    console.log('ok - a reply through the API appears in the widget and is read');

    // 2. The Arabic widget is right to left.
    const arabic = await (await browser.newContext()).newPage();
    await arabic.goto(shop + '/ar');
    await arabic.waitForSelector('#seam-chat[data-state="connected"]', { state: 'attached', timeout: EVENTUALLY });
    await arabic.locator('.seam-launcher').click();
    const direction = await arabic.locator('.seam-panel').evaluate((node) => getComputedStyle(node).direction);
    assert.equal(direction, 'rtl');
    const placeholder = await arabic.locator('.seam-input').getAttribute('placeholder');
    assert.equal(placeholder, 'اكتب رسالة…');
    await arabic.locator('.seam-input').fill('مرحبا، أين طلبي؟');
    await arabic.locator('.seam-input').press('Enter');
    await arabic.waitForSelector('.seam-message[data-author="visitor"][data-id]', { timeout: EVENTUALLY });
    await arabic.screenshot({ path: path.join(artifacts, 'widget-ar.png') });
    console.log('ok - the Arabic widget is right to left (target/artifacts/widget-ar.png)');

    // 3. The server dies; the visitor keeps typing; the server comes back.
    await killHard(seam);
    await page.waitForSelector('#seam-chat[data-state="offline"]', { state: 'attached', timeout: EVENTUALLY });
    const offline = ['First while offline', 'Second while offline', 'Third while offline'];
    for (const text of offline) {
      await page.locator('.seam-input').fill(text);
      await page.locator('.seam-input').press('Enter');
    }
    seam = await startSeam(dataDir, port);
    await eventually('the offline messages to be acknowledged', async () => {
      const acked = await ackedTexts(page);
      return offline.every((text) => acked.includes(text));
    });
    // A reload sends nothing again.
    await page.reload();
    await page.waitForSelector('#seam-chat[data-state="connected"]', { state: 'attached', timeout: EVENTUALLY });
    const after = await messagesOf(base, token, conversation.id);
    for (const text of offline) {
      const copies = after.filter((m) => m.text === text).length;
      assert.equal(copies, 1, `${text} is stored ${copies} times`);
    }
    const shown = await page.locator('.seam-message').evaluateAll((nodes) =>
      nodes.map((node) => node.firstChild && node.firstChild.textContent),
    );
    for (const text of offline) assert.equal(shown.filter((t) => t === text).length, 1, `${text} shown once`);
    console.log('ok - messages typed while the server was down are stored exactly once');
  } finally {
    if (browser) await browser.close();
    shopServer.close();
    await killHard(seam);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => console.log('browser tests passed'),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
