// The tablet's outbox: IndexedDB with strict durability (on disk before the thank-you), else
// localStorage. An item leaves once acknowledged, or refused for good (then kept aside).
const OUTBOX = "outbox";
const REJECTED = "rejected";
// Also version 0.1's outbox: moved into IndexedDB on start.
const LS_OUTBOX = "hailong.outbox";
const LS_REJECTED = "hailong.rejected";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("hailong", 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(OUTBOX, { keyPath: "id" });
      request.result.createObjectStore(REJECTED, { keyPath: "id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = request.onblocked = () => reject(request.error || new Error("blocked"));
  });
}

// Resolves once committed, with the result of the request `work` returns.
function run(db, stores, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode, { durability: mode === "readwrite" ? "strict" : "default" });
    const request = work((name) => tx.objectStore(name));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = tx.onabort = () => reject(tx.error || new Error("aborted"));
  });
}

function read(key) {
  try {
    // Version 0.1 stored {payload, attempts, nextAt}; the id is the key.
    return JSON.parse(localStorage.getItem(key) || "[]").map((item) => ({ id: item.payload.id, ...item }));
  } catch {
    return [];
  }
}

function write(key, items) {
  if (items.length) localStorage.setItem(key, JSON.stringify(items));
  else localStorage.removeItem(key);
}

export async function openQueue(onError) {
  const failed = (error) => onError(`storage: ${error}`);
  let db = null;
  try {
    db = await openDb();
    const left = read(LS_OUTBOX);
    if (left.length) {
      await run(db, OUTBOX, "readwrite", (store) => left.map((item) => store(OUTBOX).put(item)).pop());
      localStorage.removeItem(LS_OUTBOX);
    }
  } catch (error) {
    failed(error);
  }
  const dropLocal = (id) => write(LS_OUTBOX, read(LS_OUTBOX).filter((item) => item.id !== id));

  return {
    // IndexedDB first; localStorage when it fails.
    async add(payload) {
      const item = { id: payload.id, payload };
      if (db) {
        try {
          return await run(db, OUTBOX, "readwrite", (store) => store(OUTBOX).put(item));
        } catch (error) {
          failed(error);
        }
      }
      write(LS_OUTBOX, [...read(LS_OUTBOX).filter((stored) => stored.id !== item.id), item]);
    },
    // Oldest first, from both stores.
    async all() {
      const stored = db ? await run(db, OUTBOX, "readonly", (store) => store(OUTBOX).getAll()).catch(failed) : [];
      const items = [...(stored || []), ...read(LS_OUTBOX)];
      return items.sort((a, b) => (a.payload.submitted_at < b.payload.submitted_at ? -1 : 1));
    },
    async remove(id) {
      if (db) await run(db, OUTBOX, "readwrite", (store) => store(OUTBOX).delete(id));
      dropLocal(id);
    },
    async reject(item) {
      delete item.payload.callback; // no contact kept
      if (db) {
        await run(db, [OUTBOX, REJECTED], "readwrite", (store) => {
          store(REJECTED).put(item);
          return store(OUTBOX).delete(item.id);
        });
      } else write(LS_REJECTED, [...read(LS_REJECTED), item].slice(-100));
      dropLocal(item.id);
    },
  };
}
