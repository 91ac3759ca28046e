// Messages of the open conversation as the timeline shows them: server messages in order,
// plus the agent's optimistic sends until the server answers.

import type { Message } from './types';

export interface SendPayload {
  text: string;
  channel?: string;
  private: boolean;
  attachments: string[];
}

export type TimelineMessage = Message & {
  local?: { state: 'sending' | 'failed'; error?: string; payload: SendPayload };
};

function order(a: TimelineMessage, b: TimelineMessage): number {
  if (a.local && !b.local) return 1;
  if (b.local && !a.local) return -1;
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const PROGRESS: Record<string, number> = { queued: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

/** A delivery status only moves forward: an answer read before a later realtime update must
 *  not take a tick back. */
function newer(current: TimelineMessage | undefined, incoming: Message): Message {
  if (!current || current.local) return incoming;
  const before = PROGRESS[current.delivery_status ?? ''] ?? 0;
  const after = PROGRESS[incoming.delivery_status ?? ''] ?? 0;
  return before > after
    ? { ...incoming, delivery_status: current.delivery_status, delivery_error: current.delivery_error }
    : incoming;
}

/** Adds or replaces messages by id; the result is sorted oldest first, local ones last. */
export function mergeMessages(current: TimelineMessage[], incoming: Message[]): TimelineMessage[] {
  if (!incoming.length) return current;
  const fresh = [...incoming].sort(order);
  // An older page: every message new and older than the oldest shown goes in front, with no
  // sort of the thousands already there.
  const first = current[0];
  const known = new Set(current.map((message) => message.id));
  const allNew = fresh.every((message) => !known.has(message.id));
  if (allNew && first && !first.local && order(fresh[fresh.length - 1], first) < 0) {
    return [...fresh, ...current];
  }
  const byId = new Map(current.map((message) => [message.id, message] as const));
  for (const message of fresh) {
    const before = byId.get(message.id);
    byId.set(message.id, { ...before, ...newer(before, message), local: undefined });
  }
  const merged = [...byId.values()];
  const last = current.filter((m) => !m.local).at(-1);
  const appendOnly = allNew && !current.some((m) => m.local) && (!last || order(last, fresh[0]) < 0);
  if (!appendOnly) merged.sort(order);
  return merged;
}
