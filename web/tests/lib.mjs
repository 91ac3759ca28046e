// What the browser tests share: start the `seam` binary on a free port with its own
// data directory, call the API, wait for a condition, launch Debian's Chromium.

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const seamBin = process.env.SEAM_BIN || path.join(root, 'target/debug/seam');
export const artifacts = path.join(root, 'target/artifacts');
export const EVENTUALLY = 60_000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** The environment without any SEAM_ setting of the caller's, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('SEAM_')) delete env[key];
  return { ...env, ...extra };
}

/** Starts `seam <command>` (serve or demo) on the data directory and port; resolves once it listens. */
export function startSeam(dataDir, port, { command = 'serve', env = {} } = {}) {
  const child = spawn(
    seamBin,
    [command, '--data', dataDir, '--http', `127.0.0.1:${port}`, '--smtp', '127.0.0.1:0'],
    { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = [];
  child.stderr.on('data', (chunk) => log.push(String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('seam did not start:\n' + log.join(''))), 120_000);
    child.stdout.on('data', (chunk) => {
      if (String(chunk).includes('seam listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`seam exited (${code}):\n` + log.join(''))));
  });
}

export function killHard(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

export async function api(base, method, route, { token, cookie, csrf, body, raw, headers: extra } = {}) {
  const headers = { ...(raw === undefined ? { 'content-type': 'application/json' } : {}), ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) headers.cookie = cookie;
  if (csrf) headers['x-csrf-token'] = csrf;
  const response = await fetch(base + route, {
    method,
    headers,
    body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { text };
  }
  return { status: response.status, headers: response.headers, json };
}

/** Logs in through the API and makes a bearer token for the test's own calls. */
export async function tokenFor(base, email, password) {
  const login = await api(base, 'POST', '/api/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error('login failed: ' + JSON.stringify(login.json));
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const created = await api(base, 'POST', '/api/v1/auth/tokens', {
    cookie, csrf: login.json.csrf_token, body: { name: 'browser test' },
  });
  if (created.status !== 201) throw new Error('token failed: ' + JSON.stringify(created.json));
  return { token: created.json.token, user: login.json.user };
}

export async function eventually(what, probe, timeout = EVENTUALLY) {
  const started = Date.now();
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() - started > timeout) throw new Error('gave up waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Runs `work` in parallel, `width` at a time. */
export async function inParallel(items, width, work) {
  let next = 0;
  const workers = Array.from({ length: width }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  });
  await Promise.all(workers);
}
