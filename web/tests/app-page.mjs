// The agent app's browser tests, shared: a page that records every CSP violation, console
// error, page error and dialog; signing in; the app's own words in each language; the API
// calls that arrange and check what the pages show.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { api, root, EVENTUALLY } from './lib.mjs';

export const PASSWORD = 'correct horse battery staple';
/** A 1×1 PNG: the remote image of the email, served by the test instead of the internet. */
export const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * A page whose problems land in `problems`. Console errors matching one of `allowed` (which
 * the caller may change while the page lives) are the failed requests a step provokes.
 */
export async function watchedPage(context, problems, allowed = []) {
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
    });
  });
  page.on('pageerror', (error) => problems.push('page error: ' + error.message));
  page.on('dialog', (dialog) => {
    problems.push('dialog: ' + dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = `${message.text()} (${message.location().url || 'page'})`;
    if (message.type() === 'warning' && !/Content Security Policy|Refused/.test(text)) return;
    if (!allowed.some((pattern) => pattern.test(text))) problems.push(`console ${message.type()}: ${text}`);
  });
  return page;
}

export async function assertClean(page, problems) {
  const state = await page.evaluate(() => ({ csp: window.__csp || [], xss: window.__xss }));
  assert.deepEqual(state.csp, [], 'CSP violations');
  assert.equal(state.xss, undefined, 'an XSS payload ran');
  assert.deepEqual(problems, [], 'console errors, page errors, dialogs or CSP reports');
}

/** A new browser context signed in as `email`, with the realtime connection up. */
export async function openApp(browser, base, email, password, problems, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const allowed = [];
  const page = await watchedPage(context, problems, allowed);
  await page.goto(base + '/');
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(password);
  await page.locator('button[type=submit]').click();
  await page.waitForSelector('.shell[data-realtime="connected"]', { timeout: EVENTUALLY });
  return { context, page, allowed };
}

const catalogues = new Map();

/** What the app says for `key` in `language`, read from its catalogue (web/src/i18n). */
export function said(language, key) {
  if (!catalogues.has(language)) {
    const source = readFileSync(path.join(root, 'web/src/i18n', `${language}.ts`), 'utf8');
    const entries = new Map();
    for (const [, name, text] of source.matchAll(/^\s*'([\w.]+)': '((?:[^'\\]|\\.)*)',$/gm)) entries.set(name, text);
    catalogues.set(language, entries);
  }
  const text = catalogues.get(language).get(key);
  assert.ok(text !== undefined, `no ${key} in ${language}`);
  return text;
}

/** A customer's message through an API channel, as the shop's backend posts it. */
export async function inbound(base, channel, { id, email, name, text, sentAt }) {
  const answer = await api(base, 'POST', `/api/v1/channels/${channel.id}/inbound`, {
    token: channel.secret,
    body: { message_id: id, from: { email, name }, text, ...(sentAt ? { sent_at: sentAt } : {}) },
  });
  assert.equal(answer.status, 202, JSON.stringify(answer.json));
  return answer.json;
}

export async function readConversation(base, token, id) {
  const read = await api(base, 'GET', `/api/v1/conversations/${id}`, { token });
  assert.equal(read.status, 200, JSON.stringify(read.json));
  return read.json;
}

export async function messagesOf(base, token, id) {
  const page = await api(base, 'GET', `/api/v1/conversations/${id}/messages?limit=100`, { token });
  assert.equal(page.status, 200, JSON.stringify(page.json));
  return page.json.items;
}
