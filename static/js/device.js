// The tablet: screen on and full, the app cached for offline reloads, no long-press menus.

export function keepAwake(onError) {
  if (!("wakeLock" in navigator)) return;
  let lock = null;
  let refused = false;
  const acquire = async () => {
    if (document.visibilityState !== "visible" || (lock && !lock.released)) return;
    try {
      lock = await navigator.wakeLock.request("screen");
    } catch (error) {
      // Battery saver, for instance; reported once, not at every tap.
      if (!refused) onError(`wake lock: ${error.name}`);
      refused = true;
    }
  };
  // The lock is released while the page is hidden.
  document.addEventListener("visibilitychange", acquire);
  document.addEventListener("pointerup", acquire);
  acquire();
}

export function fullscreenOnTouch() {
  const page = document.documentElement;
  const enter = page.requestFullscreen || page.webkitRequestFullscreen;
  if (!enter) return;
  // Fullscreen needs a user gesture: the first tap (pointerup, for touch).
  document.addEventListener("pointerup", () => {
    if (document.fullscreenElement || document.webkitFullscreenElement) return;
    try {
      Promise.resolve(enter.call(page, { navigationUI: "hide" })).catch(() => {});
    } catch {
      // Not allowed (an iPad outside Guided Access): the tablet's settings do it.
    }
  });
}

export function noLongPress(root) {
  root.addEventListener("contextmenu", (event) => {
    if (!event.target.closest("textarea, input")) event.preventDefault();
  });
}

// Register the service worker; onUpdate once a newer version took over the page.
export function cacheShell(url, scope, onError, onUpdate) {
  const workers = navigator.serviceWorker;
  if (!workers) return;
  // The first worker to take control is this version's; a later one is newer.
  let controller = workers.controller;
  workers.addEventListener("controllerchange", () => {
    if (controller) onUpdate();
    controller = workers.controller;
  });
  workers
    .register(url, { scope })
    .then((registration) => setInterval(() => registration.update().catch(() => {}), 15 * 60000))
    .catch((error) => onError(`service worker: ${error}`));
}
