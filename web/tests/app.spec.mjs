// The agent app in a real browser (Debian's Chromium through playwright-core), served by the
// `seam` binary under its Content-Security-Policy:
//   1. a wrong password shows the error; at the lock-out threshold the lock-out message shows,
//      and then even the right password is refused with it;
//   2. a message POSTed to the API channel appears in the inbox within a second, without a
//      reload, marked unread; a second one, in Arabic, appears in the open conversation right
//      to left beside the English one; the agent replies (delivery tick, and the shop's
//      backend receives it), a send that fails on the network is retried and stored once, adds
//      a note with a file and a photo (never delivered), edits priority, assigns it to
//      themselves and resolves it: it leaves the open filter, and reopened it comes back;
//   3. offline, the app says so, and reconnected it shows what arrived meanwhile; the customer
//      panel shows verified identities and merges another customer in, with undo; the channel
//      picker shows why a channel is unavailable; a reply the provider rejects shows "failed"
//      with the reason;
//   4. the keyboard: / searches, j / k move through the list, a assigns, e resolves;
//   5. Arabic and Persian are right to left: the list on the right, outbound messages on the
//      left, dates in the language's own format; the language follows the user to a new
//      browser; the stylesheet has no physical left/right property;
//   6. admin: a channel created (its secret works) and renamed, the workspace's time zone and
//      reopen window changed, a user added who signs in and goes away: the admin sees it live;
//   7. XSS payloads in a customer's name, a message, an attachment's file name and an email's
//      HTML render as inert text; the email's quoted part is collapsed and its remote image
//      loads only once allowed;
//   8. a 5,000-message conversation opens and scrolls to its first message: the numbers go to
//      target/artifacts/app-metrics.json (recorded, not asserted);
//   9. screenshots of the demo: inbox and a cross-channel conversation in English and Arabic,
//      admin in Persian (target/artifacts; also docs/screenshots with SEAM_UPDATE_SCREENSHOTS=1);
//  10. accessibility on the demo: axe-core's WCAG 2.x A and AA rules find nothing on the login,
//      inbox (conversation, composer, customer panel) and admin screens in English and Arabic;
//      Tab order and a visible focus ring; an iPad-sized screen, portrait and landscape, with
//      touch (target/artifacts/tablet-*.png) — see app-access.mjs.
// Any CSP violation, console error or page error fails the test, except the failed requests a
// step provokes on purpose (a wrong password, a cut network).
//
// Needs the `seam` binary (SEAM_BIN, default target/debug/seam) built with the app embedded
// (`npm run build` in web/ first) and Chromium (CHROMIUM, default /usr/bin/chromium).
// Run: (cd web && npm ci && npm run build) && node web/tests/app.spec.mjs

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import {
  api, artifacts, cleanEnv, eventually, freePort, inParallel, killHard, launchChromium, root, seamBin,
  startSeam, tokenFor, EVENTUALLY,
} from './lib.mjs';
import { assertClean, inbound, messagesOf, openApp, PASSWORD, said, watchedPage } from './app-page.mjs';
import { axeFlow, tabletFlow } from './app-access.mjs';
import {
  agentFlow, channelsFlow, customerFlow, keyboardFlow, reconnectFlow, xssFlow,
} from './app-conversation.mjs';

const THREAD_SIZE = Number(process.env.SEAM_THREAD_SIZE || 5000);
const metrics = { measured_at: new Date().toISOString() };

/** The shop's backend: records what Seam delivers to it; `/reject` refuses every reply. */
function webhookReceiver() {
  const bodies = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      const reject = request.url.startsWith('/reject');
      response.writeHead(reject ? 422 : 200, { 'content-type': 'application/json' });
      response.end(reject ? '{"error":"unknown customer"}' : '{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, bodies })));
}

async function loginFailures(browser, base, problems) {
  const context = await browser.newContext();
  // The refused logins answer 401 and 423: the browser reports each failed request.
  const page = await watchedPage(context, problems, [/status of 40[13]|status of 423/]);
  await page.goto(base + '/');
  await page.locator('#login-email').fill('agent@acme.example');
  await page.locator('#login-password').fill('not the password');
  await page.locator('button[type=submit]').click();
  const error = page.locator('p.error[role="alert"]');
  await error.waitFor({ timeout: EVENTUALLY });
  assert.equal(await error.getAttribute('data-error'), 'wrong');
  assert.equal((await error.textContent()).trim(), 'The email or password is wrong.');
  console.log('ok - a wrong password shows the error');
  let attempts = 1;
  for (; attempts < 10; attempts++) {
    await page.locator('button[type=submit]').click();
    await page.waitForFunction(() => !document.querySelector('button[type=submit]').disabled, null, { timeout: EVENTUALLY });
    const kind = await error.getAttribute('data-error');
    if (kind === 'locked' || kind === 'lockedNow') break;
    assert.equal(kind, 'wrong');
  }
  const message = (await error.textContent()).trim();
  assert.match(message, /locked until/, message);
  // Locked, the right password is refused with the same message.
  await page.locator('#login-password').fill(PASSWORD);
  await page.locator('button[type=submit]').click();
  await page.waitForFunction(() => !document.querySelector('button[type=submit]').disabled, null, { timeout: EVENTUALLY });
  assert.match(await error.textContent(), /locked until/);
  assert.equal(await page.locator('#login-email').count(), 1, 'still on the login screen');
  console.log(`ok - after ${attempts + 1} failures the lock-out message shows, even for the right password: ${message}`);
  await assertClean(page, problems);
  await context.close();
}

/** Right to left in Arabic and Persian, the choice kept on the server. */
async function languageFlow(browser, page, base, token, conversationId, problems) {
  await page.goto(`${base}/#/conversations/${conversationId}`);
  await page.waitForSelector('article[data-kind="outbound"]', { timeout: EVENTUALLY });
  const side = async () => {
    const list = await page.locator('section.list').boundingBox();
    const open = await page.locator('section.open').boundingBox();
    const inboundBox = await page.locator('article[data-kind="inbound"]').first().boundingBox();
    const outboundBox = await page.locator('article[data-kind="outbound"]').first().boundingBox();
    return { listRight: list.x > open.x, outboundLeft: outboundBox.x < inboundBox.x };
  };
  assert.deepEqual(await side(), { listRight: false, outboundLeft: false }, 'English: list left, replies right');
  for (const [language, digits] of [['ar', /[صم]/], ['fa', /[۰-۹]/]]) {
    await page.locator('#language').selectOption(language);
    await page.waitForFunction(() => document.documentElement.dir === 'rtl');
    assert.equal(await page.evaluate(() => document.documentElement.lang), language);
    assert.deepEqual(await side(), { listRight: true, outboundLeft: true }, `${language}: mirrored`);
    assert.equal(await page.locator('.timeline').getAttribute('aria-label'), said(language, 'conv.timeline'), `${language}: translated`);
    const time = await page.locator('a.item time').first().textContent();
    assert.match(time, digits, `${language}: times in the language's format (${time})`);
    await eventually(`${language} kept as the user's language`, async () =>
      (await api(base, 'GET', '/api/v1/me', { token })).json.user.language === language);
  }
  console.log('ok - Arabic and Persian are right to left: the list on the right, replies on the left, local dates');

  // A new browser (nothing remembered) opens in the user's language.
  const other = await openApp(browser, base, 'owner@acme.example', PASSWORD, problems);
  await other.page.waitForFunction(() => document.documentElement.lang === 'fa' && document.documentElement.dir === 'rtl', null, { timeout: EVENTUALLY });
  assert.equal((await other.page.locator('header nav a[href="#/inbox"]').textContent()).trim(), said('fa', 'nav.inbox'));
  await assertClean(other.page, problems);
  await other.context.close();
  await page.locator('#language').selectOption('en');
  await page.waitForFunction(() => document.documentElement.dir === 'ltr');
  await eventually('English kept', async () => (await api(base, 'GET', '/api/v1/me', { token })).json.user.language === 'en');
  console.log('ok - the language follows the user to a new browser');
  await assertClean(page, problems);
}

/** Admin: a channel created and renamed; the workspace's settings; a user added, whose
 *  presence reaches the admin's screen as it changes. */
async function adminFlow(browser, page, base, token, problems) {
  await page.goto(`${base}/#/admin/channels`);
  await page.locator('#channel-kind').selectOption('api');
  await page.locator('#channel-name').fill('Returns desk');
  await page.locator('#channel-webhook_url').fill('https://returns.example/hook');
  await page.locator('form.card button[type="submit"]').click();
  const created = page.locator('.created');
  await created.waitFor({ timeout: EVENTUALLY });
  const [secret, endpoint] = await created.locator('pre').allTextContents();
  const channel = (await api(base, 'GET', '/api/v1/channels', { token })).json.items.find((c) => c.name === 'Returns desk');
  assert.equal(endpoint, `${base}/api/v1/channels/${channel.id}/inbound`);
  const posted = await api(base, 'POST', `/api/v1/channels/${channel.id}/inbound`, {
    token: secret, body: { message_id: 'returns-1', from: { email: 'rita@customer.example' }, text: 'Return label please' },
  });
  assert.equal(posted.status, 202, 'the secret shown once lets the shop post: ' + JSON.stringify(posted.json));
  const card = page.locator(`li[data-channel="${channel.id}"]`);
  await card.locator('button.edit').click();
  await card.locator(`#edit-name-${channel.id}`).fill('Returns & exchanges');
  await card.locator('button[type="submit"]').click();
  await card.locator('strong', { hasText: 'Returns & exchanges' }).waitFor({ timeout: EVENTUALLY });
  console.log('ok - an admin creates a channel (its secret works) and renames it');

  await page.goto(`${base}/#/admin/workspace`);
  await page.locator('#ws-zone').selectOption('Asia/Tehran');
  await page.locator('#ws-reopen').fill('48');
  await page.locator('form.card button[type="submit"]').click();
  await page.locator('form.card p[role="status"]').waitFor({ timeout: EVENTUALLY });
  const workspace = (await api(base, 'GET', '/api/v1/workspace', { token })).json;
  assert.equal(workspace.time_zone, 'Asia/Tehran');
  assert.equal(workspace.reopen_window_secs, 48 * 3600);
  console.log('ok - an admin changes the workspace\'s time zone and reopen window');

  await page.goto(`${base}/#/admin/users`);
  await page.locator('#user-email').fill('sara@acme.example');
  await page.locator('#user-name').fill('Sara Supervisor');
  await page.locator('#user-role').selectOption('supervisor');
  await page.locator('#user-password').fill(PASSWORD);
  await page.locator('form.card button[type="submit"]').click();
  const row = page.locator('tbody tr', { hasText: 'sara@acme.example' });
  await row.waitFor({ timeout: EVENTUALLY });
  assert.equal(await row.locator('select').inputValue(), 'supervisor');
  assert.equal(await row.locator('.presence').getAttribute('data-presence'), 'offline');
  console.log('ok - an admin adds a user');

  const sara = await openApp(browser, base, 'sara@acme.example', PASSWORD, problems);
  await row.locator('.presence[data-presence="online"]').waitFor({ timeout: EVENTUALLY });
  await sara.page.locator('#presence').selectOption('away');
  await row.locator('.presence[data-presence="away"]').waitFor({ timeout: EVENTUALLY });
  assert.equal((await row.locator('.presence').textContent()).trim(), 'Away');
  await sara.page.locator('#presence').selectOption('online');
  await row.locator('.presence[data-presence="online"]').waitFor({ timeout: EVENTUALLY });
  await assertClean(sara.page, problems);
  await sara.context.close();
  await row.locator('.presence[data-presence="offline"]').waitFor({ timeout: EVENTUALLY });
  console.log('ok - a user signs in, goes away, comes back and leaves: the admin sees it live');
  await assertClean(page, problems);
}

async function bigThread(browser, base, shop, problems) {
  // THREAD_SIZE inbound messages from one customer: one conversation. The last is sent alone,
  // so it is the newest.
  const started = Date.now();
  const text = (index) => index % 7 === 0
    ? `مرحبا، هذه الرسالة رقم ${index} مع نص أطول قليلاً ليأخذ سطرين أو ثلاثة في العرض، and some English too.`
    : index % 5 === 0 ? `Message ${index}\nwith a second line\nand a third` : `Message ${index}`;
  const from = { email: 'big@customer.example', name: 'Big Thread' };
  const firstAt = Date.now() - THREAD_SIZE * 60_000;
  const send = (index) => inbound(base, shop, {
    id: `big-${index}`, ...from, text: text(index), sentAt: new Date(firstAt + index * 60_000).toISOString(),
  });
  const { conversation_id: conversationId } = await send(0);
  await inParallel(Array.from({ length: THREAD_SIZE - 2 }, (_, i) => i + 1), 8, send);
  await send(THREAD_SIZE - 1);
  const seedSeconds = (Date.now() - started) / 1000;
  console.log(`# seeded ${THREAD_SIZE} messages in ${seedSeconds.toFixed(1)} s`);

  const { context, page } = await openApp(browser, base, 'owner@acme.example', PASSWORD, problems);
  await page.waitForSelector('a.item');
  const newest = text(THREAD_SIZE - 1);
  const openMs = await page.evaluate(async ({ id, newest }) => {
    const start = performance.now();
    location.hash = `#/conversations/${id}`;
    for (;;) {
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const found = [...document.querySelectorAll('article[data-kind="inbound"] .text')].some((n) => n.textContent === newest);
      if (found) return performance.now() - start;
      if (performance.now() - start > 30_000) return -1;
    }
  }, { id: conversationId, newest });
  assert.ok(openMs > 0, 'the newest message shows');
  const rendered = await page.locator('.timeline .row').count();
  assert.ok(rendered < 100, `only the rows near the viewport exist (${rendered})`);
  console.log(`# a ${THREAD_SIZE}-message conversation opened in ${openMs.toFixed(0)} ms (${rendered} rows in the DOM)`);

  // Scroll up through the whole thread at a steady 400 px a frame, recording frame times,
  // until the beginning of the conversation shows.
  const scroll = await page.evaluate(async () => {
    const timeline = document.querySelector('.timeline');
    const deltas = [];
    let last = performance.now();
    const started = last;
    let maxRows = 0;
    while (performance.now() - started < 90_000) {
      timeline.scrollTop = Math.max(0, timeline.scrollTop - 400);
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      deltas.push(now - last);
      last = now;
      maxRows = Math.max(maxRows, timeline.querySelectorAll('.row').length);
      const start = timeline.querySelector('.edge:not([role])');
      if (timeline.scrollTop === 0 && start) break;
    }
    const first = timeline.querySelector('.row article .text')?.textContent ?? '';
    return { deltas, count: Number(timeline.dataset.count), maxRows, first, seconds: (performance.now() - started) / 1000 };
  });
  assert.equal(scroll.count, THREAD_SIZE, 'every message is reachable');
  assert.equal(scroll.first, text(0), 'the first message shows at the top');
  assert.ok(scroll.maxRows < 150, `the DOM stays small while scrolling (${scroll.maxRows} rows)`);
  const sorted = [...scroll.deltas].sort((a, b) => a - b);
  const pick = (q) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2));
  metrics.thread = {
    messages: THREAD_SIZE,
    seed_seconds: Number(seedSeconds.toFixed(1)),
    open_ms: Math.round(openMs),
    rows_in_dom_after_open: rendered,
    scroll_to_first_message: {
      seconds: Number(scroll.seconds.toFixed(2)),
      frames: scroll.deltas.length,
      max_rows_in_dom: scroll.maxRows,
      frame_ms_p50: pick(0.5),
      frame_ms_p95: pick(0.95),
      frame_ms_p99: pick(0.99),
      frame_ms_max: pick(1),
      // At 60 Hz a frame lasts 16.7 ms; one that took longer shows up as a delta of two.
      frames_missed: scroll.deltas.filter((d) => d > 25).length,
    },
  };
  console.log('ok - the big conversation opens and scrolls to its first message (target/artifacts/app-metrics.json)');
  await assertClean(page, problems);
  await context.close();
}

/** What the first load costs: the script's gzipped size and the time until the login form. */
async function firstLoad(browser, base, problems) {
  const index = await (await fetch(base + '/')).text();
  const sizes = {};
  for (const asset of index.match(/\/assets\/[^"]+\.(?:js|css)/g)) {
    // As sent on the wire: node's fetch would undo the compression.
    const { encoding, bytes } = await new Promise((resolve, reject) => {
      http.get(base + asset, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
        let length = 0;
        response.on('data', (chunk) => (length += chunk.length));
        response.on('end', () => resolve({ encoding: response.headers['content-encoding'], bytes: length }));
      }).on('error', reject);
    });
    assert.equal(encoding, 'gzip', asset);
    sizes[asset.endsWith('.js') ? 'js_gzip_bytes' : 'css_gzip_bytes'] = bytes;
  }
  assert.ok(sizes.js_gzip_bytes <= 300 * 1024, `the app's script is ${sizes.js_gzip_bytes} bytes gzipped`);
  const context = await browser.newContext();
  const page = await watchedPage(context, problems);
  await page.goto(base + '/');
  await page.locator('#login-email').waitFor();
  const interactive = await page.evaluate(() => performance.now());
  await assertClean(page, problems);
  await context.close();
  metrics.first_load = { ...sizes, login_form_ms: Math.round(interactive) };
}

async function demoScreenshots(browser, problems) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'seam-demo-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const seam = await startSeam(dataDir, port, { command: 'demo', env: { SEAM_ADMIN_PASSWORD: PASSWORD } });
  try {
    const { token } = await tokenFor(base, 'admin@example.com', PASSWORD);
    // The conversation with messages through the most channels.
    const list = await api(base, 'GET', '/api/v1/conversations?limit=100', { token });
    let best = null;
    for (const item of list.json.items) {
      const channels = new Set((await messagesOf(base, token, item.id)).map((m) => m.channel_id).filter(Boolean));
      if (!best || channels.size > best.channels) best = { id: item.id, channels: channels.size };
    }
    assert.ok(best && best.channels >= 2, 'the demo has a cross-channel conversation');
    const { context, page } = await openApp(browser, base, 'admin@example.com', PASSWORD, problems, { width: 1366, height: 860 });
    // Time to an interactive inbox: a signed-in agent loads the app afresh and the demo's
    // conversations are listed, ready to open (recorded, never asserted).
    await page.goto(`${base}/#/inbox`);
    await page.reload();
    await page.waitForSelector('ul.conversations[aria-busy="false"] a.item');
    metrics.first_load = { ...metrics.first_load, inbox_ready_ms: Math.round(await page.evaluate(() => performance.now())) };
    // The README's screenshots are refreshed only on request, so a test run leaves the tree clean.
    const publish = process.env.SEAM_UPDATE_SCREENSHOTS === '1';
    if (publish) mkdirSync(path.join(root, 'docs/screenshots'), { recursive: true });
    const shoot = async (name) => {
      await page.evaluate(() => document.activeElement?.blur());
      await page.waitForTimeout(400);
      const file = path.join(artifacts, `${name}.png`);
      await page.screenshot({ path: file });
      if (publish) copyFileSync(file, path.join(root, 'docs/screenshots', `${name}.png`));
    };
    for (const language of ['en', 'ar']) {
      await page.locator('#language').selectOption(language);
      await page.goto(`${base}/#/inbox`);
      await page.waitForSelector('ul.conversations[aria-busy="false"] a.item');
      await shoot(`inbox-${language}`);
      await page.goto(`${base}/#/conversations/${best.id}`);
      await page.waitForSelector('article[data-kind]');
      await page.waitForSelector('.panel h2');
      const badges = await page.locator('.timeline article .badge').evaluateAll((nodes) => new Set(nodes.map((n) => n.dataset.kind)).size);
      assert.ok(badges >= 2, `messages from ${badges} channel kinds carry their badge`);
      await shoot(`conversation-${language}`);
    }
    await page.locator('#language').selectOption('fa');
    await page.goto(`${base}/#/admin/channels`);
    await page.waitForSelector('ul.channels li.card');
    assert.equal((await page.locator('.content h1').first().textContent()).trim(), said('fa', 'admin.channels'));
    await shoot('admin-fa');
    await page.locator('#language').selectOption('en');
    await assertClean(page, problems);
    console.log('ok - screenshots of the demo: inbox and conversation in English and Arabic, admin in Persian');
    await context.close();
    await axeFlow(browser, base, 'admin@example.com', best.id, problems);
    await tabletFlow(browser, base, 'admin@example.com', best.id, problems);
  } finally {
    await killHard(seam);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const began = Date.now();
  mkdirSync(artifacts, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'seam-app-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const receiver = await webhookReceiver();
  const hook = `http://127.0.0.1:${receiver.server.address().port}`;
  let seam;
  let browser;
  const problems = [];
  try {
    for (const [email, name, role] of [['owner@acme.example', 'Olivia Owner', 'owner'], ['agent@acme.example', 'Adam Agent', 'agent']]) {
      execFileSync(seamBin, [
        'user', 'create', '--email', email, '--password', PASSWORD, '--name', name,
        '--role', role, '--workspace', 'Acme', '--region', 'US', '--data', dataDir,
      ], { env: cleanEnv() });
    }
    seam = await startSeam(dataDir, port);
    const { token, user: owner } = await tokenFor(base, 'owner@acme.example', PASSWORD);
    const channel = async (body) => {
      const created = await api(base, 'POST', '/api/v1/channels', { token, body });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      return created.json;
    };
    const shop = await channel({ kind: 'api', name: 'Shop backend', config: { webhook_url: `${hook}/hook` } });
    const legacy = await channel({ kind: 'api', name: 'Legacy shop', config: { webhook_url: `${hook}/reject` } });
    const mailbox = await channel({ kind: 'email', name: 'Support mailbox', config: { address: 'support@acme.example' } });

    // The app is served with the policy the test holds it to, and lays out with logical
    // properties only, so right-to-left needs no rule of its own.
    const index = await fetch(base + '/');
    assert.equal(index.status, 200);
    const policy = index.headers.get('content-security-policy') || '';
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline/);
    const stylesheet = (await index.text()).match(/\/assets\/[^"]+\.css/)[0];
    const css = await (await fetch(base + stylesheet)).text();
    const physical = css.match(/(?:margin|padding|border)-(?:left|right)\b|(?:^|[;{])\s*(?:left|right)\s*:|(?:text-align|float|clear)\s*:\s*(?:left|right)/g);
    assert.equal(physical, null, `physical left/right CSS: ${physical}`);

    browser = await launchChromium();
    await firstLoad(browser, base, problems);
    await loginFailures(browser, base, problems);
    const flow = await agentFlow(browser, base, token, owner, shop, receiver, problems);
    await reconnectFlow(flow.context, flow.page, flow.allowed, base, shop, problems);
    await customerFlow(flow.page, base, flow.conversationId, problems);
    await channelsFlow(flow.page, base, token, legacy, problems);
    await keyboardFlow(flow.page, base, token, owner, shop, problems);
    await languageFlow(browser, flow.page, base, token, flow.conversationId, problems);
    await adminFlow(browser, flow.page, base, token, problems);
    await xssFlow(flow.page, base, token, shop, mailbox, problems);
    await flow.context.close();
    await bigThread(browser, base, shop, problems);
    await demoScreenshots(browser, problems);
    metrics.total_seconds = Math.round((Date.now() - began) / 1000);
  } finally {
    writeFileSync(path.join(artifacts, 'app-metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    console.log('# metrics: ' + JSON.stringify(metrics));
    if (browser) await browser.close();
    receiver.server.close();
    await killHard(seam);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => console.log('app browser tests passed'),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
