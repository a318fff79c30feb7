// The staff panel, loaded only when staff open it: the officer on duty signs in with their
// code and PIN or their badge (typed by a USB/Bluetooth scanner, or read by the camera where
// the browser has BarcodeDetector), and signs out at the end of the shift. After a reset, the
// officer types the setup code as their PIN and then chooses their own PIN, twice.
const $ = (selector, within) => within.querySelector(selector);
let ready = false;
let stream = null;

function say(panel, message) {
  const box = $(".staff-message", panel);
  for (const span of box.querySelectorAll("[data-message]")) span.hidden = span.dataset.message !== message;
  box.hidden = !message;
}

let setup = null;

function choosing(panel, credentials) {
  setup = credentials;
  $(".sign-in-forms", panel).hidden = Boolean(credentials);
  $(".choose-pin", panel).hidden = !credentials;
  if (credentials) $(".choose-pin input", panel).focus();
}

// Officer sign-in and sign-out: "ok", "choose" (a PIN), "weak", "wrong" (code, PIN or badge),
// "limited" (too many tries on this kiosk, or this officer's PIN locked) or "failed".
async function staff(link, path, body) {
  let response;
  try {
    response = await link.call(`${link.kioskApi}/officer/${path}`, body);
  } catch {
    return "failed";
  }
  const info = await response.json().catch(() => ({}));
  const code = info.error?.code;
  const wrong = code === "wrong_credentials";
  if (!wrong && code !== "pin_setup_required") link.answered(response);
  if (response.ok) link.state.officer = info.officer ?? null;
  await link.changed();
  if (response.ok) return "ok";
  if (code === "pin_setup_required") return "choose";
  if (response.status === 400 && path === "pin") return "weak";
  return wrong ? "wrong" : response.status === 429 ? "limited" : "failed";
}

async function send(panel, link, path, body) {
  say(panel, "");
  const outcome = await staff(link, path, body);
  if (outcome === "choose") return choosing(panel, { officer: body.officer, setup_code: body.pin });
  if (outcome === "ok") {
    choosing(panel, null);
    for (const input of panel.querySelectorAll("input")) input.value = "";
  } else say(panel, outcome);
}

function stopCamera(panel) {
  stream?.getTracks().forEach((track) => track.stop());
  stream = null;
  $(".camera-view", panel).hidden = true;
}

async function scan(panel, link) {
  const video = $(".camera-view", panel);
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
  } catch {
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  while (stream) {
    const [code] = await detector.detect(video).catch(() => []);
    if (code) {
      stopCamera(panel);
      return send(panel, link, "sign-in", { badge: code.rawValue });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function setUp(panel, link) {
  for (const form of panel.querySelectorAll("form.sign-in")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const fields = Object.fromEntries(new FormData(form));
      for (const key in fields) fields[key] = fields[key].trim();
      send(panel, link, "sign-in", fields);
    });
  }
  const choose = $(".choose-pin", panel);
  choose.addEventListener("submit", (event) => {
    event.preventDefault();
    const { pin, pin_again } = Object.fromEntries(new FormData(choose));
    if (pin.trim() !== pin_again.trim()) return say(panel, "mismatch");
    send(panel, link, "pin", { ...setup, pin: pin.trim(), pin_again: pin_again.trim() });
  });
  $(".sign-out", panel).addEventListener("click", () => send(panel, link, "sign-out", {}));
  $(".close", panel).addEventListener("click", () => panel.close());
  panel.addEventListener("close", () => {
    stopCamera(panel);
    choosing(panel, null);
    say(panel, "");
    for (const input of panel.querySelectorAll("input")) input.value = "";
  });
  const camera = $(".camera", panel);
  camera.hidden = !("BarcodeDetector" in window && navigator.mediaDevices);
  camera.addEventListener("click", () => scan(panel, link));
}

export function showStaffPanel(panel, link) {
  if (!ready) setUp(panel, link);
  ready = true;
  if (!panel.open) panel.showModal();
  link.beat();
}
