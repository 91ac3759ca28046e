// The conversation list: its filters, its pages, and realtime changes applied to it. A change
// the list cannot apply locally (a new conversation, a filter it may now fail) re-reads page one.

import { api } from './api';
import type { Conversation, ConversationStatus } from './types';

export type Scope = 'mine' | 'unassigned' | 'all';

export interface Filters {
  scope: Scope;
  status: ConversationStatus | '';
  channel: string;
  label: string;
  q: string;
}

interface InboxState {
  filters: Filters;
  items: Conversation[];
  nextCursor: string | null;
  loading: boolean;
  error: string | null;
}

export const inbox: InboxState = $state({
  filters: { scope: 'all', status: 'open', channel: '', label: '', q: '' },
  items: [],
  nextCursor: null,
  loading: false,
  error: null,
});

let generation = 0;

function query(cursor?: string) {
  const filters = inbox.filters;
  return {
    status: filters.status,
    assignee: filters.scope === 'mine' ? 'me' : filters.scope === 'unassigned' ? 'none' : '',
    channel: filters.channel,
    label: filters.label.trim().toLowerCase(),
    q: filters.q.trim(),
    limit: 50,
    cursor,
  };
}

/** Reads page one again (after a filter change, a reconnect, or a change seen in realtime). */
export async function reloadInbox() {
  const mine = ++generation;
  inbox.loading = true;
  try {
    const page = await api.list<Conversation>('/api/v1/conversations', query());
    if (mine !== generation) return;
    // Keep the pages beyond the first that were already loaded, minus what page one now has.
    const fresh = new Set(page.items.map((c) => c.id));
    const lastFresh = page.items[page.items.length - 1];
    const rest = page.next_cursor && lastFresh
      ? inbox.items.filter((c) => !fresh.has(c.id) && c.last_activity_at < lastFresh.last_activity_at)
      : [];
    inbox.items = [...page.items, ...rest];
    if (!rest.length) inbox.nextCursor = page.next_cursor;
    inbox.error = null;
  } catch (error) {
    if (mine === generation) inbox.error = (error as Error).message;
  } finally {
    if (mine === generation) inbox.loading = false;
  }
}

export async function loadMoreConversations() {
  if (!inbox.nextCursor || inbox.loading) return;
  inbox.loading = true;
  const mine = generation;
  try {
    const page = await api.list<Conversation>('/api/v1/conversations', query(inbox.nextCursor));
    if (mine !== generation) return;
    const known = new Set(inbox.items.map((c) => c.id));
    inbox.items = [...inbox.items, ...page.items.filter((c) => !known.has(c.id))];
    inbox.nextCursor = page.next_cursor;
  } finally {
    inbox.loading = false;
  }
}

let pending: ReturnType<typeof setTimeout> | undefined;
/** Re-reads soon, folding a burst of events into one read. */
export function reloadSoon(delay = 120) {
  clearTimeout(pending);
  pending = setTimeout(reloadInbox, delay);
}

/** Applies fields of a conversation (from an update or a realtime event) to the list. */
export function mergeConversation(change: Partial<Conversation> & { id: string }) {
  const found = inbox.items.find((c) => c.id === change.id);
  if (found) Object.assign(found, change);
}

export function markReadLocally(id: string) {
  const found = inbox.items.find((c) => c.id === id);
  if (found) found.unread = false;
}
