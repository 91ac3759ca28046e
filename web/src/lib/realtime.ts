// The realtime WebSocket (`/api/v1/realtime`, same origin, cookie auth). Delivery is at most
// once, so after every reconnect the listeners are told to re-read what they show.

export interface RealtimeFrame {
  type: string;
  workspace_id: string;
  data: Record<string, unknown>;
}

type Listener = (frame: RealtimeFrame) => void;
type StateListener = (connected: boolean, reconnected: boolean) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<StateListener>();
let socket: WebSocket | null = null;
let attempts = 0;
let everConnected = false;
let stopped = true;
let timer: ReturnType<typeof setTimeout> | undefined;

export function onRealtime(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onConnection(listener: StateListener): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

function open() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/realtime`);
  socket = ws;
  ws.addEventListener('open', () => {
    const reconnected = everConnected;
    everConnected = true;
    attempts = 0;
    for (const listener of stateListeners) listener(true, reconnected);
  });
  ws.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let frame: RealtimeFrame;
    try {
      frame = JSON.parse(event.data) as RealtimeFrame;
    } catch {
      return;
    }
    for (const listener of listeners) listener(frame);
  });
  ws.addEventListener('close', () => {
    if (socket === ws) lost();
  });
}

/** The connection is gone: listeners hear it at once, and a new one is tried with backoff. */
function lost() {
  const ws = socket;
  socket = null;
  ws?.close();
  for (const listener of stateListeners) listener(false, false);
  if (stopped) return;
  // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … at most 15 s.
  const delay = Math.min(15_000, 500 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
  attempts += 1;
  clearTimeout(timer);
  timer = setTimeout(open, delay);
}

// The browser knows about a lost network long before a silent TCP connection does, and knows
// when it is back: reconnect then rather than at the next backoff step.
window.addEventListener('offline', () => {
  if (socket) lost();
});
window.addEventListener('online', () => {
  if (stopped || socket?.readyState === WebSocket.OPEN) return;
  const stale = socket;
  socket = null;
  stale?.close();
  clearTimeout(timer);
  attempts = 0;
  open();
});

export function startRealtime() {
  if (!stopped) return;
  stopped = false;
  open();
}

export function stopRealtime() {
  stopped = true;
  clearTimeout(timer);
  everConnected = false;
  socket?.close();
  socket = null;
}
