// A durable outbox for ratings: written before the thank-you shows, removed only once the
// server has acknowledged it. The server's idempotency on the rating's id makes replays safe.
const KEY = "hailong.outbox";
const REJECTED_KEY = "hailong.rejected";
const MAX_DELAY_MS = 5 * 60 * 1000;

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "[]");
  } catch {
    return [];
  }
}

function write(key, items) {
  localStorage.setItem(key, JSON.stringify(items));
}

export function pending() {
  return read(KEY);
}

export function enqueue(payload) {
  const items = read(KEY);
  items.push({ payload, attempts: 0, nextAt: 0 });
  write(KEY, items);
}

function settle(id, rejectedBody) {
  write(KEY, read(KEY).filter((item) => item.payload.id !== id));
  if (rejectedBody) {
    // Kept for staff to inspect, never silently dropped.
    const rejected = read(REJECTED_KEY);
    rejected.push(rejectedBody);
    write(REJECTED_KEY, rejected.slice(-50));
  }
}

function postpone(id) {
  const items = read(KEY);
  for (const item of items) {
    if (item.payload.id === id) {
      item.attempts += 1;
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** item.attempts);
      item.nextAt = Date.now() + delay * (0.75 + Math.random() * 0.5);
    }
  }
  write(KEY, items);
}

export function createSender({ url, token, onChange }) {
  let running = false;

  async function sendOne(item) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(item.payload),
        signal: AbortSignal.timeout(15000),
      });
    } catch {
      postpone(item.payload.id);
      return false;
    }
    if (response.ok) {
      settle(item.payload.id);
      return true;
    }
    if (response.status >= 400 && response.status < 500 && ![401, 408, 425, 429].includes(response.status)) {
      const body = await response.text().catch(() => "");
      settle(item.payload.id, { payload: item.payload, status: response.status, body });
      return true;
    }
    postpone(item.payload.id);
    return false;
  }

  async function drain() {
    if (running) return;
    running = true;
    try {
      for (const item of pending()) {
        if (item.nextAt > Date.now()) continue;
        const ok = await sendOne(item);
        onChange?.(pending().length);
        if (!ok) break;
      }
    } finally {
      running = false;
    }
  }

  window.addEventListener("online", drain);
  setInterval(drain, 10000);
  return { drain };
}
