// The browser test's conversation flows (see app.spec.mjs): the agent's day in one open app —
// a message arriving, reply, retry, note, status; reconnecting; the customer panel; the
// channel picker; the keyboard; hostile content.

import assert from 'node:assert/strict';
import { api, eventually, EVENTUALLY } from './lib.mjs';
import {
  assertClean, inbound, messagesOf, openApp, PASSWORD, PIXEL, readConversation, said,
} from './app-page.mjs';

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';

/** A raw HTML email with one attached file, as a mail server would pipe it. */
function rawEmail({ from, name, subject, html, fileName }) {
  const boundary = 'seam-test-boundary';
  return [
    `From: "${name}" <${from}>`,
    'To: support@acme.example',
    `Subject: ${subject}`,
    `Message-ID: <${Date.now()}.${Math.random()}@customer.example>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    html,
    `--${boundary}`,
    `Content-Type: application/pdf; name="${fileName}"`,
    `Content-Disposition: attachment; filename="${fileName}"`,
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('%PDF-1.4 test').toString('base64'),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

export async function agentFlow(browser, base, token, owner, shop, receiver, problems) {
  const { context, page, allowed } = await openApp(browser, base, 'owner@acme.example', PASSWORD, problems);
  await page.waitForSelector('ul.conversations[aria-busy="false"]', { timeout: EVENTUALLY });

  // A customer writes through the API channel; the open inbox shows it without a reload.
  const sent = await inbound(base, shop, {
    id: 'flow-1', email: 'lina@customer.example', name: 'Lina Haddad', text: 'Where is my order #1234?',
  });
  const conversationId = sent.conversation_id;
  const item = page.locator(`a.item[data-id="${conversationId}"]`);
  await item.waitFor({ timeout: 1000 });
  assert.equal((await item.locator('.name').textContent()).trim(), 'Lina Haddad');
  assert.equal((await item.locator('.preview').textContent()).trim(), 'Where is my order #1234?');
  assert.equal(await item.locator('.unread-dot').count(), 1, 'marked unread');
  console.log('ok - a message POSTed to the API channel appears in the inbox within a second, unread');

  // Opened, it is read.
  await item.click();
  await page.waitForSelector('article[data-kind="inbound"]:has-text("Where is my order #1234?")', { timeout: EVENTUALLY });
  await item.locator('.unread-dot').waitFor({ state: 'detached', timeout: EVENTUALLY });
  assert.equal((await page.locator('.header h1').textContent()).trim(), 'Lina Haddad');

  // She writes again, in Arabic: it appears in the open conversation, right to left in the
  // English app, while her English message stays left to right.
  await inbound(base, shop, {
    id: 'flow-2', email: 'lina@customer.example', name: 'Lina Haddad', text: 'مرحبا، الطلب رقم 1234 لم يصل بعد',
  });
  const arabic = page.locator('article[data-kind="inbound"] .text', { hasText: 'الطلب رقم 1234' });
  await arabic.waitFor({ timeout: EVENTUALLY });
  assert.equal(await arabic.evaluate((node) => getComputedStyle(node).direction), 'rtl');
  const english = page.locator('article[data-kind="inbound"] .text', { hasText: 'Where is my order' });
  assert.equal(await english.evaluate((node) => getComputedStyle(node).direction), 'ltr');
  console.log('ok - a new message appears in the open conversation, each message in its own direction');

  // Reply with Markdown and Ctrl+Enter: the delivery tick shows, the shop's backend has it.
  await page.locator('#composer-text').fill('It left our warehouse **today**.');
  await page.locator('#composer-text').press('Control+Enter');
  const reply = page.locator('article[data-kind="outbound"]').filter({ hasText: 'It left our warehouse' });
  await reply.waitFor({ timeout: EVENTUALLY });
  assert.equal(await page.locator('#composer-text').inputValue(), '', 'the composer is emptied at once');
  assert.equal(await reply.locator('strong').textContent(), 'today', 'Markdown bold');
  await reply.locator('[data-delivery="sent"], [data-delivery="delivered"], [data-delivery="read"]').waitFor({ timeout: EVENTUALLY });
  await eventually('the reply at the shop', async () => receiver.bodies.some((b) => b.includes('It left our warehouse')));
  console.log('ok - the reply shows its delivery tick and reaches the shop');

  // A send cut off by the network shows "not sent" with a retry; the retry stores it once.
  const cut = '**/api/v1/conversations/*/messages';
  await page.route(cut, (route) =>
    route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.continue(),
  );
  allowed.push(/ERR_INTERNET_DISCONNECTED/);
  await page.locator('#composer-text').fill('Your tracking number is 1Z999.');
  await page.locator('button.send').click();
  const failed = page.locator('article[data-status="failed"]').filter({ hasText: 'Your tracking number' });
  await failed.waitFor({ timeout: EVENTUALLY });
  assert.match(await failed.locator('.failed').textContent(), /^Not sent: /);
  await page.unroute(cut);
  allowed.pop();
  await failed.locator('button.retry').click();
  await page.locator('article[data-kind="outbound"]').filter({ hasText: 'Your tracking number' })
    .locator('[data-delivery]').waitFor({ timeout: EVENTUALLY });
  const stored = (await messagesOf(base, token, conversationId)).filter((m) => m.text === 'Your tracking number is 1Z999.');
  assert.equal(stored.length, 1, 'the retried reply is stored once');
  console.log('ok - a send that fails shows the reason and a retry, and the retry is stored once');

  // A note with a file and a photo: set apart, stored, never sent to the customer.
  await page.locator('button[data-mode="note"]').click();
  await page.locator('#composer-text').fill('Customer is a VIP, be quick.');
  await page.locator('#composer-files').setInputFiles([
    { name: 'packing-slip.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 slip') },
    { name: 'parcel.png', mimeType: 'image/png', buffer: PIXEL },
  ]);
  await page.locator('.uploads li', { hasText: 'parcel.png' }).waitFor({ timeout: EVENTUALLY });
  await page.locator('.uploads li', { hasText: 'packing-slip.pdf' }).waitFor({ timeout: EVENTUALLY });
  await page.locator('button.send').click();
  const note = page.locator('article[data-kind="note"]').filter({ hasText: 'Customer is a VIP' });
  await note.waitFor({ timeout: EVENTUALLY });
  assert.equal((await note.locator('.note-label').textContent()).trim(), 'Internal note');
  await note.locator('.files a', { hasText: 'packing-slip.pdf' }).waitFor({ timeout: EVENTUALLY });
  await page.waitForFunction(() => document.querySelector('article[data-kind="note"] img[alt="parcel.png"]')?.naturalWidth === 1, null, { timeout: EVENTUALLY });
  const slip = await page.evaluate(async () => {
    const link = document.querySelector('article[data-kind="note"] .files a');
    const response = await fetch(link.href);
    return { status: response.status, text: await response.text() };
  });
  assert.deepEqual(slip, { status: 200, text: '%PDF-1.4 slip' }, 'the attached file downloads');
  await eventually('the note to be stored', async () =>
    (await messagesOf(base, token, conversationId)).some((m) => m.kind === 'note' && m.text === 'Customer is a VIP, be quick.'));
  await page.locator('button[data-mode="reply"]').click();
  console.log('ok - a note with a file and a photo is added, set apart');

  // Priority and assignee edited in place; resolved, it leaves the open filter.
  await page.locator('.header select[name="priority"]').selectOption('high');
  await eventually('the priority', async () => (await readConversation(base, token, conversationId)).priority === 'high');
  await page.locator('button.assign-me').click();
  await eventually('the assignment', async () => (await readConversation(base, token, conversationId)).assignee_id === owner.id);
  assert.equal(await page.locator('select[name="assignee"]').inputValue(), owner.id);
  assert.equal(await page.locator('button.assign-me').count(), 0, 'no "assign to me" once assigned to me');
  console.log('ok - priority set and assigned to self');
  await page.locator('button.resolve').click();
  await item.waitFor({ state: 'detached', timeout: EVENTUALLY });
  assert.equal((await readConversation(base, token, conversationId)).status, 'resolved');
  assert.equal(await page.locator('.header select[name="status"]').inputValue(), 'resolved');
  await page.locator('.header select[name="status"]').selectOption('open');
  await item.waitFor({ timeout: EVENTUALLY });
  assert.equal((await readConversation(base, token, conversationId)).status, 'open');
  console.log('ok - resolved, it leaves the open filter; reopened from the status field, it is back');
  await page.waitForTimeout(300);
  assert.ok(!receiver.bodies.some((b) => b.includes('Customer is a VIP')), 'a note never reaches the customer');

  await assertClean(page, problems);
  return { context, page, allowed, conversationId };
}

/** Offline, the app says so; back online it reconnects and shows what arrived meanwhile. */
export async function reconnectFlow(context, page, allowed, base, shop, problems) {
  allowed.push(/WebSocket|ERR_INTERNET_DISCONNECTED/);
  await context.setOffline(true);
  await page.locator('p.offline[role="status"]').waitFor({ timeout: EVENTUALLY });
  const sent = await inbound(base, shop, {
    id: 'offline-1', email: 'tariq@customer.example', name: 'Tariq Nasser', text: 'Are you there?',
  });
  await context.setOffline(false);
  await page.locator(`a.item[data-id="${sent.conversation_id}"]`).waitFor({ timeout: EVENTUALLY });
  await page.locator('.shell[data-realtime="connected"]').waitFor({ timeout: EVENTUALLY });
  assert.equal(await page.locator('p.offline').count(), 0);
  allowed.pop();
  console.log('ok - offline, the app says so; reconnected, it shows the message that came meanwhile');
  await assertClean(page, problems);
}

/** The customer beside the conversation: verified identities; merge another in, then undo. */
export async function customerFlow(page, base, conversationId, problems) {
  await page.goto(`${base}/#/conversations/${conversationId}`);
  const panel = page.locator('aside.panel');
  await panel.locator('h2', { hasText: 'Lina Haddad' }).waitFor({ timeout: EVENTUALLY });
  const email = panel.locator('.identities li', { hasText: 'lina@customer.example' });
  assert.equal(await email.locator('.verified').getAttribute('data-verified'), 'true');
  await panel.locator('#merge-search').fill('tariq');
  const candidate = panel.locator('.candidates li', { hasText: 'Tariq Nasser' });
  await candidate.waitFor({ timeout: EVENTUALLY });
  await candidate.locator('button').click();
  await panel.locator('.identities li', { hasText: 'tariq@customer.example' }).waitFor({ timeout: EVENTUALLY });
  await panel.locator('.notice button').click();
  await panel.locator('.notice', { hasText: said('en', 'customer.undone') }).waitFor({ timeout: EVENTUALLY });
  await panel.locator('.identities li', { hasText: 'tariq@customer.example' }).waitFor({ state: 'detached', timeout: EVENTUALLY });
  console.log('ok - the customer panel merges another customer in, and undoes it');
  await assertClean(page, problems);
}

/** The channel picker explains unavailable channels; a rejected reply shows why it failed. */
export async function channelsFlow(page, base, token, legacy, problems) {
  const sent = await inbound(base, legacy, {
    id: 'legacy-1', email: 'omar@customer.example', name: 'Omar Farouk', text: 'Can I change my address?',
  });
  const reach = await api(base, 'GET', `/api/v1/conversations/${sent.conversation_id}/channels`, { token });
  assert.equal(reach.status, 200, JSON.stringify(reach.json));
  assert.equal(reach.json.default_channel_id, legacy.id, 'the reply goes where the customer wrote');
  await page.goto(`${base}/#/conversations/${sent.conversation_id}`);
  await page.waitForSelector('article[data-kind="inbound"]:has-text("Can I change my address?")', { timeout: EVENTUALLY });
  const picker = page.locator('.composer select[name="channel"]');
  await page.waitForFunction((id) => document.querySelector('.composer select[name="channel"]')?.value === id, legacy.id, { timeout: EVENTUALLY });
  const unavailable = reach.json.items.filter((c) => !c.available);
  assert.ok(unavailable.length > 0, 'a channel the customer cannot be reached on now: ' + JSON.stringify(reach.json.items));
  for (const channel of unavailable) {
    const option = picker.locator(`option[value="${channel.channel_id}"]`);
    assert.equal(await option.isDisabled(), true, `${channel.name} cannot be picked`);
    const reason = page.locator(`.reason[data-unavailable="${channel.channel_id}"]`);
    const text = (await reason.textContent()).replace(/\s+/g, ' ').trim();
    assert.ok(text.startsWith(`${channel.name} — unavailable: `) && text.includes(channel.reason.message), text);
  }
  console.log(`ok - the channel picker says why a channel is unavailable (${unavailable.map((c) => c.reason.code).join(', ')})`);

  await page.locator('#composer-text').fill('Yes: which address?');
  await page.locator('#composer-text').press('Control+Enter');
  const reply = page.locator('article[data-kind="outbound"]').filter({ hasText: 'Yes: which address?' });
  await page.waitForSelector('article[data-kind="outbound"][data-status="failed"]:has-text("Yes: which address?")', { timeout: EVENTUALLY });
  const failure = (await reply.locator('.failed').textContent()).trim();
  const [storedReply] = (await messagesOf(base, token, sent.conversation_id)).filter((m) => m.kind === 'outbound');
  assert.equal(storedReply.delivery_status, 'failed');
  assert.equal(failure, `Failed: ${storedReply.delivery_error}`);
  console.log(`ok - a reply the shop rejects shows "failed" with the reason: ${failure}`);
  await assertClean(page, problems);
}

/** / searches; j and k move through the list; a assigns to me; e resolves and opens the next. */
export async function keyboardFlow(page, base, token, owner, shop, problems) {
  const names = ['Kaveh Rostami', 'Noor Saleh', 'Sami Haddad'];
  for (const [index, name] of names.entries()) {
    await inbound(base, shop, { id: `keys-${index}`, email: `keys${index}@customer.example`, name, text: `Question ${index}` });
  }
  await page.goto(`${base}/#/inbox`);
  for (const name of names) await page.locator('a.item .name', { hasText: name }).waitFor({ timeout: EVENTUALLY });
  await page.evaluate(() => document.activeElement?.blur());

  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'q', '/ focuses the search');
  await page.keyboard.type('noor');
  await page.waitForFunction(() => {
    const shown = [...document.querySelectorAll('a.item .name')].map((n) => n.textContent);
    return shown.length === 1 && shown[0] === 'Noor Saleh';
  }, null, { timeout: EVENTUALLY });
  await page.locator('input[name="q"]').fill('');
  await page.waitForFunction(() => document.querySelectorAll('a.item').length >= 3, null, { timeout: EVENTUALLY });
  await page.keyboard.press('Escape');
  assert.notEqual(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'q', 'Escape leaves the search');
  console.log('ok - / searches the inbox, Escape leaves the search');

  const order = await page.locator('a.item').evaluateAll((nodes) => nodes.map((n) => n.dataset.id));
  const opened = () => page.evaluate(() => location.hash.replace('#/conversations/', ''));
  await page.keyboard.press('j');
  await page.waitForFunction((id) => location.hash.endsWith(id), order[0]);
  await page.keyboard.press('j');
  await page.waitForFunction((id) => location.hash.endsWith(id), order[1]);
  await page.keyboard.press('k');
  await page.waitForFunction((id) => location.hash.endsWith(id), order[0]);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-current')), 'true', 'the opened item has the focus');
  console.log('ok - j and k move through the conversations');

  const target = await opened();
  await page.waitForSelector('.header select[name="assignee"]');
  await page.keyboard.press('a');
  await eventually('the assignment by keyboard', async () => (await readConversation(base, token, target)).assignee_id === owner.id);
  await page.waitForFunction((id) => document.querySelector('.header select[name="assignee"]')?.value === id, owner.id, { timeout: EVENTUALLY });
  await page.keyboard.press('e');
  await page.locator(`a.item[data-id="${target}"]`).waitFor({ state: 'detached', timeout: EVENTUALLY });
  assert.equal((await readConversation(base, token, target)).status, 'resolved');
  await page.waitForFunction((id) => location.hash.endsWith(id), order[1], { timeout: EVENTUALLY });
  console.log('ok - a assigns to me; e resolves and opens the next conversation');
  await assertClean(page, problems);
}

export async function xssFlow(page, base, token, shop, emailChannel, problems) {
  const name = `Mallory ${XSS}`;
  const text = `Hi ${XSS} <b>bold?</b>`;
  const sent = await inbound(base, shop, { id: 'xss-1', email: 'mallory@evil.example', name, text });
  const fileName = `<img src=x onerror=window.__xss=1>.pdf`;
  const mail = rawEmail({
    from: 'mallory@evil.example',
    name: 'Mallory',
    subject: `Invoice ${XSS}`,
    fileName,
    html: `<p>Pay now</p><img src="x" onerror="window.__xss=1"><script>window.__xss=1</script>` +
      `<a href="javascript:window.__xss=1">click</a><iframe src="javascript:window.__xss=1"></iframe>` +
      `<p style="color: #b3261e">styled</p><p><img src="https://images.example/logo.png" alt="Logo"></p>` +
      `<blockquote>older quoted text</blockquote>`,
  });
  const mailed = await api(base, 'POST', `/api/v1/channels/${emailChannel.id}/email`, {
    token: emailChannel.secret, raw: mail, headers: { 'content-type': 'message/rfc822' },
  });
  assert.ok([200, 201, 202].includes(mailed.status), JSON.stringify(mailed.json));
  const fetched = [];
  await page.route('https://images.example/**', (route) => {
    fetched.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'image/png', body: PIXEL });
  });

  await page.goto(`${base}/#/conversations/${sent.conversation_id}`);
  const message = page.locator('article[data-kind="inbound"]').filter({ hasText: 'bold?' }).first();
  await message.waitFor({ timeout: EVENTUALLY });
  assert.equal(await message.locator('.text').textContent(), text, 'the message is shown as text');
  assert.equal(await message.locator('b, img, script').count(), 0);
  assert.equal(await page.locator('.header h1').textContent(), name, 'the name is shown as text');
  assert.equal(await page.locator(`a.item[data-id="${sent.conversation_id}"] .name`).textContent(), name);
  const email = page.locator('article[data-kind="inbound"]').filter({ has: page.locator('.email-html') }).first();
  await email.waitFor({ timeout: EVENTUALLY });
  assert.equal(await email.locator('.email-html script, .email-html iframe, .email-html [onerror]').count(), 0);
  assert.equal(await email.locator('.email-html a[href^="javascript"]').count(), 0);
  assert.ok((await email.locator('.email-html').textContent()).includes('Pay now'));
  assert.ok((await email.locator('.subject').textContent()).includes(XSS), 'the subject is shown as text');
  assert.equal(await email.locator('.files a').first().textContent(), fileName, 'the file name is shown as text');
  const styled = await email.locator('.email-html p:has-text("styled")').evaluate((node) => getComputedStyle(node).color);
  assert.equal(styled, 'rgb(179, 38, 30)', 'email styles apply through the CSSOM');
  assert.equal(await email.locator('.email-html blockquote').isVisible(), false, 'quoted text is collapsed');
  await email.locator('button.quoted').click();
  assert.equal(await email.locator('.email-html blockquote').isVisible(), true);
  console.log('ok - XSS payloads in a name, a message, a file name and an email render as inert text');

  // The remote image stays unloaded until the agent allows it.
  const logo = email.locator('.email-html img[alt="Logo"]');
  assert.equal(await logo.getAttribute('src'), null);
  await page.waitForTimeout(300);
  assert.deepEqual(fetched, [], 'nothing fetched before it is allowed');
  await email.locator('button.show-images').click();
  await page.waitForFunction(() => document.querySelector('.email-html img[alt="Logo"]')?.naturalWidth === 1, null, { timeout: EVENTUALLY });
  assert.deepEqual(fetched, ['https://images.example/logo.png']);
  console.log('ok - the email\'s quoted part is collapsed and its remote image loads only once allowed');
  await page.waitForTimeout(300);
  await assertClean(page, problems);
}
