// Who is signed in, their workspace, and the workspace's users and channels: read once after
// login and kept current by realtime events.

import { api, ApiError, hasSessionCookie } from './api';
import type { Channel, Language, Presence, User, Workspace } from './types';
import { setLanguage } from '../i18n/index.svelte';

interface SessionState {
  status: 'unknown' | 'signed-out' | 'signed-in';
  user: User | null;
  workspace: Workspace | null;
  users: User[];
  channels: Channel[];
}

export const session: SessionState = $state({
  status: 'unknown',
  user: null,
  workspace: null,
  users: [],
  channels: [],
});

/** Reads who is signed in and their workspace; without a session, the login shows. */
export async function loadSession(): Promise<void> {
  if (!hasSessionCookie()) {
    session.status = 'signed-out';
    return;
  }
  try {
    const me = await api.get<{ user: User; workspace: Workspace }>('/api/v1/me');
    session.user = me.user;
    session.workspace = me.workspace;
    if (me.user.language) setLanguage(me.user.language);
  } catch (error) {
    session.status = 'signed-out';
    if (error instanceof ApiError && error.status === 401) return;
    throw error;
  }
  session.status = 'signed-in';
  await Promise.all([loadChannels(), loadUsers()]);
}

export async function loadChannels() {
  try {
    session.channels = (await api.list<Channel>('/api/v1/channels')).items;
  } catch {
    session.channels = [];
  }
}

export async function loadUsers() {
  try {
    session.users = (await api.list<User>('/api/v1/users')).items;
  } catch {
    session.users = session.user ? [session.user] : [];
  }
}

export async function login(email: string, password: string) {
  await api.post<{ user: User; csrf_token: string }>('/api/v1/auth/login', { email, password });
  await loadSession();
}

export async function logout() {
  try {
    await api.post('/api/v1/auth/logout');
  } finally {
    session.status = 'signed-out';
    session.user = null;
  }
}

/** Switches the app's language at once and keeps it as the user's choice on the server, so
 *  it follows them to any browser. Returns whether the server kept it. */
export async function chooseLanguage(language: Language): Promise<boolean> {
  setLanguage(language);
  if (!session.user) return false;
  try {
    session.user = await api.patch<User>('/api/v1/me', { language });
    return true;
  } catch {
    return false;
  }
}

export async function setPresence(status: Exclude<Presence, 'offline'>) {
  const user = await api.put<User>('/api/v1/me/presence', { status });
  session.user = user;
  // This app holds a realtime connection, so others see the choice.
  updateUserPresence(user.id, status);
}

export function updateUserPresence(userId: string, presence: Presence) {
  for (const user of session.users) if (user.id === userId) user.presence = presence;
  if (session.user && session.user.id === userId) session.user.presence = presence;
}

export function channelById(id: string | null | undefined): Channel | undefined {
  return id ? session.channels.find((channel) => channel.id === id) : undefined;
}

export function userById(id: string | null | undefined): User | undefined {
  return id ? session.users.find((user) => user.id === id) : undefined;
}

export function canAdmin(): boolean {
  const role = session.user?.role;
  return role === 'owner' || role === 'admin';
}
