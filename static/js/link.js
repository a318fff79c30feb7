// The outbox's sender and the heartbeat: docs/architecture.md, "The kiosk in the browser".
const TIMEOUT_MS = 15000;
const MAX_DELAY_MS = 60000;
// Refused for good (bad input, unknown code); 401 and the "try later" codes are not.
const permanent = (status) => status >= 400 && status < 500 && ![401, 408, 425, 429].includes(status);

// isHeld(id): a rating the citizen is still adding to, not to be sent yet.
export function createLink({ responsesUrl, kioskApi, version, queue, isHeld = () => false, heartbeatMs, onChange }) {
  const state = { waiting: 0, reachable: navigator.onLine, connected: true, officer: undefined, lastError: null };
  let sending = false;
  let failures = 0;
  let retryTimer = 0;

  async function call(url, body) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      return await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body),
        cache: "no-store",
        signal: abort.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  function noteError(text) {
    state.lastError = `${new Date().toISOString()} ${text}`.slice(0, 500);
  }

  async function changed() {
    const items = await queue.all();
    state.waiting = items.filter((item) => !isHeld(item.id)).length;
    onChange(state);
    return items;
  }

  function answered(response) {
    state.reachable = true;
    state.connected = response.status !== 401;
    if (!state.connected) noteError("401 unknown or revoked device");
  }

  function retryLater(reason) {
    state.reachable = false;
    noteError(reason);
    failures += 1;
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(drain, delay);
  }

  async function drain() {
    if (sending) return;
    sending = true;
    clearTimeout(retryTimer);
    try {
      for (;;) {
        const [item] = (await queue.all()).filter((queued) => !isHeld(queued.id));
        if (!item || !state.connected) break;
        let response;
        try {
          response = await call(responsesUrl, item.payload);
        } catch (error) {
          retryLater(`POST responses: ${error.name}`);
          break;
        }
        answered(response);
        if (response.ok) {
          failures = 0;
          await queue.remove(item.id);
        } else if (permanent(response.status)) {
          const body = await response.text().catch(() => "");
          noteError(`rating refused ${response.status}: ${body}`);
          await queue.reject({ ...item, status: response.status, body });
        } else {
          if (response.status !== 401) retryLater(`POST responses: HTTP ${response.status}`);
          break;
        }
      }
    } catch (error) {
      retryLater(`outbox: ${error}`);
    } finally {
      sending = false;
      await changed();
    }
  }

  async function beat() {
    const items = await changed();
    let response;
    try {
      response = await call(`${kioskApi}/heartbeat`, {
        app_version: version,
        queue_depth: items.length,
        oldest_queued_at: items[0]?.payload.submitted_at ?? null,
        last_error: state.lastError,
      });
    } catch (error) {
      state.reachable = false;
      noteError(`heartbeat: ${error.name}`);
      return changed();
    }
    answered(response);
    if (response.ok) {
      const info = await response.json().catch(() => ({}));
      if ("officer" in info) state.officer = info.officer;
    } else if (response.status !== 401) {
      noteError(`heartbeat: HTTP ${response.status}`);
    }
    await changed();
    if (state.connected && items.length) drain();
  }

  window.addEventListener("online", () => {
    failures = 0;
    beat();
    drain();
  });
  window.addEventListener("offline", () => {
    state.reachable = false;
    changed();
  });
  setInterval(beat, heartbeatMs);
  beat();
  // call and answered also serve staff.js.
  return { state, drain, beat, changed, noteError, call, answered, kioskApi };
}
