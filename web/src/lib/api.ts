// The one way the app talks to the server: same-origin fetch with the session cookie, the
// CSRF token on every write, and errors as `ApiError` carrying the server's stable code.

import type { List } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Called when the session is gone (401 on anything but the login). */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void) {
  onUnauthorized = handler;
}

function csrfToken(): string {
  const match = document.cookie.split('; ').find((part) => part.startsWith('seam_csrf='));
  return match ? decodeURIComponent(match.slice('seam_csrf='.length)) : '';
}

/** Whether a login left its cookies: without them there is no session to ask the server about. */
export function hasSessionCookie(): boolean {
  return csrfToken() !== '';
}

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  options: { raw?: Blob | File; contentType?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken();
  let payload: BodyInit | undefined;
  if (options.raw) {
    payload = options.raw;
    headers['content-type'] = options.contentType || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  const text = await response.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const detail = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    const error = new ApiError(
      response.status,
      detail?.code || 'http_' + response.status,
      detail?.message || response.statusText,
      detail?.field,
    );
    if (response.status === 401 && path !== '/api/v1/auth/login') onUnauthorized();
    throw error;
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', withQuery(path, query)),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  upload: <T>(path: string, file: File) => request<T>('POST', path, undefined, { raw: file, contentType: file.type }),
  list: <T>(path: string, query?: Query) => request<List<T>>('GET', withQuery(path, query)),
};
