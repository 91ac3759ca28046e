// Accessibility and tablets, checked on the demo workspace:
//   - axe-core with the WCAG 2.0 / 2.1 A and AA rules finds nothing on the login screen, the
//     inbox with a conversation open (timeline, composer, customer panel) and the admin screens
//     (channels, users, workspace settings), in English and in Arabic; Tab follows the reading
//     order on the login form and the header, after a skip link that keeps the open conversation,
//     the focus ring at least 3:1 against its background;
//   - at an iPad-like size, portrait and landscape, with touch: the list shows, a conversation
//     opens with its timeline and composer, nothing scrolls sideways and the send button is on
//     screen and not covered; narrower (a split screen) the conversation has a way back to the list.
// axe's script is injected into a context that bypasses the page's CSP, made only for this
// check; every other context keeps the strict policy.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { artifacts, EVENTUALLY } from './lib.mjs';
import { assertClean, PASSWORD, watchedPage } from './app-page.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe's findings on the page as it stands, one line per element that fails a rule. */
async function violations(page, screen) {
  await page.evaluate(() => document.activeElement?.blur());
  // Transitions settle before colours are measured.
  await page.waitForTimeout(250);
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: axeSource });
  const found = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  }, TAGS);
  return found.flatMap((v) => v.nodes.map((n) =>
    `${screen}: ${v.id} (${v.impact}) ${v.help}\n    at ${n.target}\n    ${String(n.summary).replace(/\n/g, '\n    ')}`));
}

async function signIn(page, base, email) {
  await page.goto(base + '/');
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(PASSWORD);
  await page.locator('button[type=submit]').click();
  await page.waitForSelector('.shell[data-realtime="connected"]', { timeout: EVENTUALLY });
}

/** Tab walks `expected` (an id, a class, a type or an href) in order, each with an outline
 *  that contrasts at least 3:1 with what is behind it. */
async function focusOrder(page, expected) {
  for (const want of expected) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const rgb = (colour) => colour.match(/[\d.]+/g).map(Number);
      const luminance = ([r, g, b]) => {
        const channel = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      };
      const element = document.activeElement;
      const style = getComputedStyle(element);
      // An outline drawn outside the element lies on its parent's background, one drawn inside
      // on its own.
      let behind = parseFloat(style.outlineOffset) < 0 ? element : element.parentElement;
      while (behind && (rgb(getComputedStyle(behind).backgroundColor)[3] ?? 1) === 0) behind = behind.parentElement;
      const back = luminance(rgb(behind ? getComputedStyle(behind).backgroundColor : 'rgb(255, 255, 255)'));
      const ring = luminance(rgb(style.outlineColor));
      const box = element.getBoundingClientRect();
      return {
        names: [element.id, element.getAttribute('type'), element.getAttribute('href'), ...element.classList],
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        contrast: (Math.max(back, ring) + 0.05) / (Math.min(back, ring) + 0.05),
        visible: box.width > 1 && box.height > 1 && box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight,
      };
    });
    assert.ok(focused.names.includes(want), `Tab reaches ${want} next, not ${focused.names.join(' ')}`);
    assert.ok(focused.outline && focused.visible, `${want} shows that it has the focus`);
    assert.ok(focused.contrast >= 3, `${want}: the focus ring contrasts ${focused.contrast.toFixed(2)}:1 with the background`);
  }
}

/** axe on every main screen, in English and Arabic: zero violations. */
export async function axeFlow(browser, base, email, conversationId, problems) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1366, height: 860 } });
  const page = await watchedPage(context, problems);
  const found = [];
  let screens = 0;
  for (const language of ['en', 'ar']) {
    await page.goto(base + '/');
    await page.locator('#login-language').selectOption(language);
    await page.waitForFunction((l) => document.documentElement.lang === l, language);
    found.push(...(await violations(page, `login ${language}`)));
    if (language === 'en') await focusOrder(page, ['login-email', 'login-password', 'submit', 'login-language']);
    await signIn(page, base, email);
    if (language === 'en') {
      await page.goto(`${base}/#/conversations/${conversationId}`);
      await page.waitForSelector('article[data-kind]');
      await page.evaluate(() => document.activeElement?.blur());
      await focusOrder(page, ['skip', 'brand', '#/inbox', '#/admin/channels', 'presence', 'language', 'button']);
      await page.locator('a.skip').focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'the skip link moves focus to the main content');
      assert.equal(await page.evaluate(() => location.hash), `#/conversations/${conversationId}`, 'and the conversation stays open');
    }
    await page.locator('#language').selectOption(language);
    await page.goto(`${base}/#/conversations/${conversationId}`);
    await page.waitForSelector('article[data-kind]');
    await page.waitForSelector('.panel h2');
    await page.waitForSelector('ul.conversations[aria-busy="false"] a.item');
    found.push(...(await violations(page, `inbox ${language}`)));
    await page.locator('form.composer button[data-mode="note"]').click();
    found.push(...(await violations(page, `inbox ${language}, writing a note`)));
    await page.locator('form.composer button[data-mode="reply"]').click();
    for (const [section, ready] of [['channels', 'ul.channels li.card'], ['users', 'tbody tr'], ['workspace', '#ws-zone']]) {
      await page.goto(`${base}/#/admin/${section}`);
      await page.waitForSelector(ready);
      found.push(...(await violations(page, `admin ${section} ${language}`)));
    }
    screens += 5;
    await page.locator('#language').selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await page.locator('header button', { hasText: /./ }).last().click();
    await page.locator('#login-email').waitFor();
  }
  assert.equal(found.length, 0, `axe (${TAGS.join(', ')}) found:\n${found.join('\n')}`);
  console.log(`ok - axe finds no WCAG 2.1 A/AA violation on ${screens} screens (login, inbox with a conversation, admin ×3) in English and Arabic`);
  assert.deepEqual(problems, [], 'console errors, page errors, dialogs');
  await context.close();
}

/** At tablet sizes the inbox and a conversation work with touch and nothing overflows. */
export async function tabletFlow(browser, base, email, conversationId, problems) {
  for (const [viewport, name] of [[{ width: 820, height: 1180 }, 'portrait'], [{ width: 1180, height: 820 }, 'landscape']]) {
    const context = await browser.newContext({ viewport, hasTouch: true, isMobile: false });
    const page = await watchedPage(context, problems);
    await signIn(page, base, email);
    const noSideways = async (where) => {
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.scrollingElement.scrollWidth, width: innerWidth }));
      assert.ok(scroll <= width, `${name} ${where}: the page scrolls sideways (${scroll} > ${width})`);
    };
    await page.goto(`${base}/#/inbox`);
    const item = page.locator(`a.item[href="#/conversations/${conversationId}"]`);
    await item.waitFor({ timeout: EVENTUALLY });
    assert.ok(await page.locator('section.list').isVisible(), `${name}: the list shows`);
    await noSideways('inbox');
    if (name === 'portrait') await page.screenshot({ path: path.join(artifacts, 'tablet-inbox.png') });
    await item.tap();
    await page.waitForSelector('article[data-kind]');
    const composer = page.locator('form.composer');
    await composer.waitFor();
    assert.ok(await page.locator('.timeline').isVisible(), `${name}: the timeline shows`);
    const send = composer.locator('button[type="submit"]');
    const box = await send.boundingBox();
    assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height,
      `${name}: the send button is on screen (${JSON.stringify(box)})`);
    const hit = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('button[type="submit"]') !== null,
      { x: box.x + box.width / 2, y: box.y + box.height / 2 });
    assert.ok(hit, `${name}: nothing covers the send button`);
    // The buttons that remove a label are big enough for a finger (at least 24 × 24 px).
    const removers = await page.locator('.chip button').evaluateAll((buttons) =>
      buttons.map((button) => { const r = button.getBoundingClientRect(); return [r.width, r.height]; }));
    assert.ok(removers.length > 0, `${name}: the conversation shows its labels`);
    for (const [w, h] of removers) assert.ok(w >= 24 && h >= 24, `${name}: a label's remove button is ${w}×${h} px`);
    await noSideways('conversation');
    if (name === 'portrait') await page.screenshot({ path: path.join(artifacts, 'tablet-conversation.png') });
    const back = page.locator('button.back');
    // Side by side when there is room; narrower (a split screen), one at a time, with a way back.
    if (await page.locator('section.list').isVisible()) {
      await page.setViewportSize({ width: 600, height: viewport.height });
      await page.locator('section.list').waitFor({ state: 'hidden' });
    }
    assert.ok(await back.isVisible(), `${name}: a way back to the list`);
    await noSideways('narrow conversation');
    await back.tap();
    await page.locator('section.list').waitFor({ state: 'visible' });
    await item.waitFor();
    await noSideways('narrow list');
    await assertClean(page, problems);
    await context.close();
  }
  console.log('ok - a tablet, portrait and landscape, with touch: the list, a conversation with its composer, the way back, no sideways scrolling');
}
