// The kiosk's service worker, served at /kiosk/sw.js with the app version stamped in.
// It keeps the kiosk page (network first, the cached copy when the network fails) and the
// static files it uses (cache first), so the tablet reloads while offline. It never touches
// the rating outbox, which lives in IndexedDB: a new version cannot lose a queued rating.
const VERSION = "__APP_VERSION__";
const CACHE = `hailong-kiosk-${VERSION}`;
const PAGE = self.registration.scope; // the kiosk page itself, e.g. https://host/kiosk
const STATIC = new URL("static/", PAGE.replace(/kiosk\/?$/, "")).href;
// The call-back offer's texts (static/js/callback.js), kept like the page.
const OFFER = `${PAGE.replace(/\/$/, "")}/callback`;
const PAGE_TIMEOUT_MS = 5000;

async function fresh(url) {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fresh(PAGE);
      const html = await page.clone().text();
      await cache.put(PAGE, page);
      // The page names everything it needs: stylesheets, modules (modulepreload), icon.
      const assets = new Set([...html.matchAll(/"([^"]*\/static\/[^"]+)"/g)].map((m) => new URL(m[1], PAGE).href));
      await Promise.all([...assets].map(async (url) => cache.put(url, await fresh(url))));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("hailong-kiosk-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), PAGE_TIMEOUT_MS)),
    ]);
    // The "pair this tablet" page (no-store) is the truth and is shown, but never kept in
    // place of the rating screen; a server error is not shown.
    if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
    const keep = !/no-store/.test(response.headers.get("Cache-Control") || "");
    const url = request.url.split("?")[0];
    if (response.ok && keep && url === request.url) await cache.put(url, response.clone());
    return response;
  } catch (error) {
    return (await cache.match(request.url === OFFER ? OFFER : PAGE)) || Response.error();
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && request.url.split("?")[0] === PAGE) event.respondWith(page(request));
  else if (request.url === OFFER) event.respondWith(page(request));
  else if (request.url.startsWith(STATIC)) event.respondWith(asset(request));
});
