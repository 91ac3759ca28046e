// @ts-check
/*
 * Seam website chat widget. Plain JavaScript, no build step; served by Seam at /widget.js.
 *
 * Install with one tag (the channel id is the channel's public key):
 *   <script src="https://seam.example/widget.js" data-channel="CHANNEL_ID" async></script>
 * Optional attributes: data-locale="en|ar|fa" (else the page's lang, then the browser's),
 * data-user-id + data-user-hash (hex HMAC-SHA256 of the user id under the channel secret,
 * computed by the site's server), data-name, data-email.
 * Page API: window.SeamChat.identify({ userId, userHash, name, email }), .open(), .close().
 *
 * The protocol it speaks is described in docs/widget-protocol.md.
 */
(function () {
  'use strict';

  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
  const win = /** @type {any} */ (window);
  if (!script || !script.dataset.channel || win.SeamChat) return;

  const channelId = script.dataset.channel;
  const origin = new URL(script.src, location.href);
  const socketUrl =
    (origin.protocol === 'https:' ? 'wss:' : 'ws:') +
    '//' +
    origin.host +
    '/widget/ws?channel=' +
    encodeURIComponent(channelId);
  const storageKey = 'seam:' + channelId + ':';
  const MAX_TEXT_BYTES = 4096;

  /** @type {Record<string, Record<string, string>>} */
  const STRINGS = {
    en: {
      open: 'Chat with us',
      close: 'Close chat',
      title: 'Chat',
      placeholder: 'Write a message…',
      send: 'Send',
      typing: 'Typing…',
      offline: 'Offline: messages will be sent when the connection returns',
      connecting: 'Connecting…',
      pending: 'Waiting to send',
      sent: 'Sent',
      failed: 'Not sent',
      tooLong: 'Too long to send',
      read: 'Read',
      byEmail: 'by email',
      name: 'Your name',
      email: 'Your email',
      start: 'Start chat',
      intro: 'Tell us how to reach you if you leave before we answer.',
      unread: 'unread messages',
    },
    ar: {
      open: 'تحدث معنا',
      close: 'إغلاق المحادثة',
      title: 'محادثة',
      placeholder: 'اكتب رسالة…',
      send: 'إرسال',
      typing: 'يكتب الآن…',
      offline: 'غير متصل: ستُرسل الرسائل عند عودة الاتصال',
      connecting: 'جارٍ الاتصال…',
      pending: 'بانتظار الإرسال',
      sent: 'أُرسلت',
      failed: 'لم تُرسل',
      tooLong: 'الرسالة أطول من المسموح',
      read: 'قُرئت',
      byEmail: 'بالبريد الإلكتروني',
      name: 'اسمك',
      email: 'بريدك الإلكتروني',
      start: 'ابدأ المحادثة',
      intro: 'أخبرنا كيف نصل إليك إن غادرت قبل أن نرد.',
      unread: 'رسائل غير مقروءة',
    },
    fa: {
      open: 'گفتگو با ما',
      close: 'بستن گفتگو',
      title: 'گفتگو',
      placeholder: 'پیامی بنویسید…',
      send: 'ارسال',
      typing: 'در حال نوشتن…',
      offline: 'آفلاین: پیام‌ها پس از برقراری اتصال فرستاده می‌شوند',
      connecting: 'در حال اتصال…',
      pending: 'در انتظار ارسال',
      sent: 'فرستاده شد',
      failed: 'فرستاده نشد',
      tooLong: 'پیام بیش از حد طولانی است',
      read: 'خوانده شد',
      byEmail: 'با ایمیل',
      name: 'نام شما',
      email: 'ایمیل شما',
      start: 'شروع گفتگو',
      intro: 'اگر پیش از پاسخ ما رفتید، بگویید چطور با شما تماس بگیریم.',
      unread: 'پیام خوانده‌نشده',
    },
  };
  const RTL = ['ar', 'fa'];

  /** @param {string | null | undefined} tag */
  function supported(tag) {
    const language = (tag || '').trim().toLowerCase().split(/[-_]/)[0];
    return STRINGS[language] ? language : null;
  }

  const chosenLocale =
    supported(script.dataset.locale) ||
    supported(document.documentElement.lang) ||
    supported(navigator.language);
  let locale = chosenLocale || 'en';
  /** @param {string} key */
  const t = (key) => STRINGS[locale][key] || STRINGS.en[key];

  // localStorage may be unavailable (privacy modes); the widget then forgets on reload.
  /** @type {Record<string, string>} */
  const memory = {};
  /** @param {string} key */
  function load(key) {
    try {
      const text = localStorage.getItem(storageKey + key);
      return text ? JSON.parse(text) : null;
    } catch (_) {
      return memory[key] ? JSON.parse(memory[key]) : null;
    }
  }
  /** @param {string} key @param {any} value */
  function save(key, value) {
    const text = JSON.stringify(value);
    try {
      localStorage.setItem(storageKey + key, text);
    } catch (_) {
      memory[key] = text;
    }
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /**
   * @typedef {{ id?: string, client_id?: string, author: string, text: string,
   *   channel?: string | null, status?: string, created_at: string, failed?: string }} ChatMessage
   * @typedef {{ client_id: string, text: string, created_at: string }} Queued
   */

  const identity = {
    userId: script.dataset.userId || null,
    userHash: script.dataset.userHash || null,
  };
  /** @type {{ name?: string, email?: string } | null} */
  let profile = load('profile') || (script.dataset.name || script.dataset.email
    ? { name: script.dataset.name, email: script.dataset.email }
    : null);
  /** @type {Queued[]} */
  let outbox = load('outbox') || [];
  /** @type {ChatMessage[]} */
  let messages = outbox.map((queued) => ({
    client_id: queued.client_id,
    author: 'visitor',
    text: queued.text,
    created_at: queued.created_at,
  }));
  /** @type {WebSocket | null} */
  let socket = null;
  let welcomed = false;
  let attempts = 0;
  /** @type {number | undefined} */
  let reconnectTimer;
  let isOpen = false;
  let agentTyping = false;
  /** @type {number | undefined} */
  let agentTypingTimer;
  let preChat = false;
  let verified = false;
  /** @type {{ name?: string, greeting?: string | null, locale?: string | null } } */
  let channelInfo = {};

  // ---- The page element and its shadow DOM --------------------------------------------------

  const host = document.createElement('div');
  host.id = 'seam-chat';
  host.dataset.state = 'connecting';
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML =
    '<style>' +
    ':host{all:initial}' +
    '.seam{position:fixed;inset-block-end:20px;inset-inline-end:20px;z-index:2147483000;' +
    'font:14px/1.45 system-ui,-apple-system,"Segoe UI",Tahoma,sans-serif;color:#1d2330}' +
    '.seam *{box-sizing:border-box;font:inherit}' +
    '.seam-launcher{width:56px;height:56px;border-radius:50%;border:0;background:#2b59c3;color:#fff;' +
    'cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative;display:grid;place-items:center}' +
    '.seam-badge{position:absolute;inset-block-start:-4px;inset-inline-end:-4px;min-width:20px;height:20px;' +
    'border-radius:10px;background:#d93025;color:#fff;font-size:12px;line-height:20px;padding:0 5px}' +
    '.seam-badge[hidden]{display:none}' +
    '.seam-panel{position:absolute;inset-block-end:70px;inset-inline-end:0;width:min(360px,calc(100vw - 40px));' +
    'height:min(520px,calc(100vh - 110px));background:#fff;border-radius:12px;display:flex;flex-direction:column;' +
    'box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden}' +
    '.seam-panel[hidden]{display:none}' +
    '.seam-header{background:#2b59c3;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}' +
    '.seam-header h2{flex:1;margin:0;font-size:15px;font-weight:600}' +
    '.seam-close{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}' +
    '.seam-status{font-size:12px;padding:4px 14px;background:#fff4d6;color:#6b4e00}' +
    '.seam-status[hidden]{display:none}' +
    '.seam-messages{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f6f7fb}' +
    '.seam-message{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}' +
    '.seam-message[data-author=visitor]{align-self:flex-end;background:#2b59c3;color:#fff}' +
    '.seam-message[data-author=agent]{align-self:flex-start;background:#fff;border:1px solid #e2e5ee}' +
    '.seam-meta{display:block;font-size:11px;opacity:.75;margin-block-start:2px}' +
    '.seam-greeting{align-self:flex-start;color:#555;font-size:13px}' +
    '.seam-typing{font-size:12px;color:#666;padding:0 14px 4px;min-height:18px}' +
    '.seam-composer{display:flex;gap:6px;padding:10px;border-block-start:1px solid #e2e5ee}' +
    '.seam-composer[hidden],.seam-prechat[hidden]{display:none}' +
    '.seam-input{flex:1;resize:none;border:1px solid #cfd4e0;border-radius:8px;padding:8px;height:40px;max-height:120px}' +
    '.seam-send,.seam-start{background:#2b59c3;color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer}' +
    '.seam-prechat{padding:14px;display:flex;flex-direction:column;gap:8px}' +
    '.seam-prechat input{border:1px solid #cfd4e0;border-radius:8px;padding:8px}' +
    '.seam-start{height:36px}' +
    '</style>' +
    '<div class="seam">' +
    '<div class="seam-panel" role="dialog" hidden>' +
    '<div class="seam-header"><h2 class="seam-title"></h2>' +
    '<button class="seam-close" type="button">×</button></div>' +
    '<div class="seam-status" hidden></div>' +
    '<div class="seam-messages" role="log" aria-live="polite"></div>' +
    '<div class="seam-typing" aria-live="polite"></div>' +
    '<form class="seam-prechat" hidden><p class="seam-intro"></p>' +
    '<input class="seam-name" autocomplete="name" maxlength="200">' +
    '<input class="seam-email" type="email" autocomplete="email" maxlength="254">' +
    '<button class="seam-start" type="submit"></button></form>' +
    '<form class="seam-composer"><textarea class="seam-input" rows="1"></textarea>' +
    '<button class="seam-send" type="submit"></button></form>' +
    '</div>' +
    '<button class="seam-launcher" type="button">' +
    '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" ' +
    'd="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>' +
    '<span class="seam-badge" hidden></span></button>' +
    '</div>';

  /** @param {string} selector */
  const $ = (selector) => /** @type {HTMLElement} */ (root.querySelector(selector));
  const frame = $('.seam');
  const panel = $('.seam-panel');
  const launcher = $('.seam-launcher');
  const badge = $('.seam-badge');
  const list = $('.seam-messages');
  const statusLine = $('.seam-status');
  const typingLine = $('.seam-typing');
  const composer = /** @type {HTMLFormElement} */ ($('.seam-composer'));
  const input = /** @type {HTMLTextAreaElement} */ ($('.seam-input'));
  const preChatForm = /** @type {HTMLFormElement} */ ($('.seam-prechat'));

  function applyLocale() {
    frame.setAttribute('dir', RTL.includes(locale) ? 'rtl' : 'ltr');
    frame.setAttribute('lang', locale);
    $('.seam-title').textContent = channelInfo.name || t('title');
    $('.seam-close').setAttribute('aria-label', t('close'));
    launcher.setAttribute('aria-label', t('open'));
    input.placeholder = t('placeholder');
    $('.seam-send').textContent = t('send');
    $('.seam-intro').textContent = t('intro');
    /** @type {HTMLInputElement} */ ($('.seam-name')).placeholder = t('name');
    /** @type {HTMLInputElement} */ ($('.seam-email')).placeholder = t('email');
    $('.seam-start').textContent = t('start');
    render();
  }

  // ---- Rendering -----------------------------------------------------------------------------

  function unreadCount() {
    return messages.filter((m) => m.author === 'agent' && m.status !== 'read').length;
  }

  function render() {
    const fragment = document.createDocumentFragment();
    if (channelInfo.greeting) {
      const greeting = document.createElement('div');
      greeting.className = 'seam-greeting';
      greeting.textContent = channelInfo.greeting;
      fragment.appendChild(greeting);
    }
    for (const message of messages) {
      const bubble = document.createElement('div');
      bubble.className = 'seam-message';
      bubble.dataset.author = message.author;
      if (message.id) bubble.dataset.id = message.id;
      if (message.client_id) bubble.dataset.clientId = message.client_id;
      bubble.textContent = message.text;
      const meta = document.createElement('span');
      meta.className = 'seam-meta';
      const parts = [
        new Date(message.created_at).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }),
      ];
      if (message.channel === 'email') parts.push(t('byEmail'));
      if (message.author === 'visitor') {
        parts.push(message.failed ? t(message.failed) : message.id ? t('sent') : t('pending'));
      }
      meta.textContent = parts.join(' · ');
      bubble.appendChild(meta);
      fragment.appendChild(bubble);
    }
    list.replaceChildren(fragment);
    list.scrollTop = list.scrollHeight;
    const unread = isOpen ? 0 : unreadCount();
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    launcher.setAttribute('aria-label', t('open') + (unread ? ' (' + unread + ' ' + t('unread') + ')' : ''));
    typingLine.textContent = agentTyping ? t('typing') : '';
    const connected = welcomed;
    statusLine.hidden = connected;
    statusLine.textContent = attempts > 0 ? t('offline') : t('connecting');
    preChatForm.hidden = !preChat;
    composer.hidden = preChat;
  }

  function sortMessages() {
    messages.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  }

  /** @param {ChatMessage} incoming */
  function upsert(incoming) {
    const index = messages.findIndex(
      (m) => (incoming.id && m.id === incoming.id) || (incoming.client_id && m.client_id === incoming.client_id),
    );
    if (index >= 0) {
      const known = messages[index];
      // Statuses only move forward, as on the server.
      const order = ['queued', 'sent', 'delivered', 'read'];
      const status =
        order.indexOf(incoming.status || '') >= order.indexOf(known.status || '') ? incoming.status : known.status;
      messages[index] = Object.assign({}, known, incoming, { status });
    } else {
      messages.push(incoming);
    }
  }

  // ---- The connection ------------------------------------------------------------------------

  /** @param {object} payload */
  function send(payload) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(payload));
      return true;
    }
    return false;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (socket) return;
    host.dataset.state = 'connecting';
    const visitor = load('visitor') || {};
    const ws = new WebSocket(socketUrl);
    socket = ws;
    ws.onopen = () => {
      const newest = messages.filter((m) => m.id).map((m) => /** @type {string} */ (m.id)).sort().pop();
      ws.send(
        JSON.stringify({
          type: 'hello',
          channel: channelId,
          visitor_id: visitor.id || null,
          visitor_token: visitor.token || null,
          user_id: identity.userId,
          user_hash: identity.userHash,
          name: profile && profile.name ? profile.name : null,
          email: profile && profile.email ? profile.email : null,
          last_event_id: newest || null,
        }),
      );
    };
    ws.onmessage = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      receive(data);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      welcomed = false;
      host.dataset.state = 'offline';
      render();
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    attempts += 1;
    // Exponential backoff with jitter: half the delay fixed, half random; capped at 30 s.
    const ceiling = Math.min(30000, 500 * Math.pow(2, Math.min(attempts, 10)));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    clearTimeout(reconnectTimer);
    reconnectTimer = window.setTimeout(connect, delay);
  }

  function reconnectNow() {
    const current = socket;
    socket = null;
    welcomed = false;
    if (current) current.close();
    attempts = 0;
    connect();
  }

  /** @param {any} data */
  function receive(data) {
    switch (data.type) {
      case 'welcome': {
        welcomed = true;
        attempts = 0;
        host.dataset.state = 'connected';
        verified = !!data.verified;
        save('visitor', { id: data.visitor_id, token: data.visitor_token });
        channelInfo = data.channel || {};
        if (!chosenLocale && supported(channelInfo.locale)) locale = /** @type {string} */ (supported(channelInfo.locale));
        preChat = !!channelInfo.pre_chat_form && !profile && !verified;
        for (const message of data.messages || []) upsert(message);
        // A queued message the server already holds was sent before its ack was lost.
        const held = new Set(messages.filter((m) => m.id && m.client_id).map((m) => m.client_id));
        outbox = outbox.filter((queued) => !held.has(queued.client_id));
        save('outbox', outbox);
        sortMessages();
        applyLocale();
        reportSeen();
        flush();
        break;
      }
      case 'ack': {
        outbox = outbox.filter((queued) => queued.client_id !== data.client_id);
        save('outbox', outbox);
        const acked = messages.find((m) => m.client_id === data.client_id);
        if (acked) {
          acked.id = data.message_id;
          delete acked.failed;
        }
        render();
        break;
      }
      case 'message': {
        upsert(data.message);
        if (data.message.author === 'agent') {
          agentTyping = false;
        }
        sortMessages();
        reportSeen();
        render();
        break;
      }
      case 'typing': {
        agentTyping = !!data.typing;
        clearTimeout(agentTypingTimer);
        if (agentTyping) {
          agentTypingTimer = window.setTimeout(() => {
            agentTyping = false;
            render();
          }, 6000);
        }
        render();
        break;
      }
      case 'status': {
        const message = messages.find((m) => m.id === data.message_id);
        if (message) upsert(Object.assign({}, message, { status: data.status }));
        render();
        break;
      }
      case 'error': {
        if (data.client_id && data.code === 'rate_limited') {
          window.setTimeout(flush, Math.max(500, data.retry_after_ms || 1000));
        } else if (data.client_id && (data.code === 'too_long' || data.code === 'invalid')) {
          outbox = outbox.filter((queued) => queued.client_id !== data.client_id);
          save('outbox', outbox);
          const failed = messages.find((m) => m.client_id === data.client_id);
          if (failed) failed.failed = data.code === 'too_long' ? 'tooLong' : 'failed';
          render();
        }
        break;
      }
    }
  }

  /** Sends every queued message; the server stores each client id once. */
  function flush() {
    if (!welcomed) return;
    for (const queued of outbox) {
      send({ type: 'message', client_id: queued.client_id, text: queued.text });
    }
  }

  /** Reports replies as delivered, and as read when the conversation is in view. */
  function reportSeen() {
    if (!welcomed) return;
    const seeing = isOpen && document.visibilityState === 'visible';
    const delivered = [];
    const read = [];
    for (const message of messages) {
      if (message.author !== 'agent' || !message.id) continue;
      if (seeing && message.status !== 'read') {
        read.push(message.id);
        message.status = 'read';
      } else if (message.status === 'queued' || message.status === 'sent') {
        delivered.push(message.id);
        message.status = 'delivered';
      }
    }
    for (let i = 0; i < delivered.length; i += 100) send({ type: 'delivered', message_ids: delivered.slice(i, i + 100) });
    for (let i = 0; i < read.length; i += 100) send({ type: 'read', message_ids: read.slice(i, i + 100) });
    render();
  }

  // ---- What the visitor does -----------------------------------------------------------------

  /** @param {string} text */
  function write(text) {
    const trimmed = text.trim();
    if (!trimmed) return false;
    if (new TextEncoder().encode(trimmed).length > MAX_TEXT_BYTES) {
      statusLine.hidden = false;
      statusLine.textContent = t('tooLong');
      return false;
    }
    const queued = { client_id: newClientId(), text: trimmed, created_at: new Date().toISOString() };
    // Kept before it is sent, so a message written offline, or lost with its connection,
    // goes out when the widget next says hello — once, since the server dedupes on its id.
    outbox.push(queued);
    save('outbox', outbox);
    messages.push({ client_id: queued.client_id, author: 'visitor', text: trimmed, created_at: queued.created_at });
    sortMessages();
    render();
    if (welcomed) send({ type: 'message', client_id: queued.client_id, text: trimmed });
    stopTyping();
    return true;
  }

  let typingSentAt = 0;
  /** @type {number | undefined} */
  let typingStop;
  function typing() {
    const now = Date.now();
    if (now - typingSentAt > 2000) {
      typingSentAt = now;
      send({ type: 'typing', typing: true });
    }
    clearTimeout(typingStop);
    typingStop = window.setTimeout(stopTyping, 3000);
  }
  function stopTyping() {
    clearTimeout(typingStop);
    if (typingSentAt) {
      typingSentAt = 0;
      send({ type: 'typing', typing: false });
    }
  }

  function open() {
    isOpen = true;
    panel.hidden = false;
    render();
    reportSeen();
    input.focus();
  }
  function close() {
    isOpen = false;
    panel.hidden = true;
    render();
  }

  launcher.addEventListener('click', () => (isOpen ? close() : open()));
  $('.seam-close').addEventListener('click', close);
  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    if (write(input.value)) input.value = '';
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener('input', typing);
  preChatForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = /** @type {HTMLInputElement} */ ($('.seam-name')).value.trim();
    const email = /** @type {HTMLInputElement} */ ($('.seam-email')).value.trim();
    profile = { name: name || undefined, email: email || undefined };
    save('profile', profile);
    preChat = false;
    render();
    reconnectNow();
  });
  document.addEventListener('visibilitychange', reportSeen);
  window.addEventListener('online', () => {
    if (!socket) {
      attempts = 0;
      connect();
    }
  });

  win.SeamChat = {
    open,
    close,
    /** @param {{ userId?: string, userHash?: string, name?: string, email?: string }} who */
    identify(who) {
      identity.userId = who.userId || null;
      identity.userHash = who.userHash || null;
      if (who.name || who.email) {
        profile = { name: who.name, email: who.email };
        save('profile', profile);
      }
      reconnectNow();
    },
  };

  function install() {
    document.body.appendChild(host);
    applyLocale();
    connect();
  }
  if (document.body) install();
  else document.addEventListener('DOMContentLoaded', install);
})();
