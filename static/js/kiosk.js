// The counter kiosk: docs/architecture.md, "The kiosk in the browser".
import { openQueue } from "./queue.js";
import { createLink } from "./link.js";
import { cacheShell, fullscreenOnTouch, keepAwake, noLongPress } from "./device.js";

const $ = (selector, within = document) => within.querySelector(selector);
const $$ = (selector, within = document) => [...within.querySelectorAll(selector)];
const html = document.documentElement;
const root = $("#kiosk");
const data = root.dataset;
const seconds = (name) => Number(data[name]) * 1000;
const form = $("form", root);
const steps = $$(".question", form);
const actions = $(".actions", form);
const [backButton, skipButton, sendButton] = $$("button", actions);
const intro = $(".intro", root);
const thanks = $(".thanks-screen", root);
const addComment = $(".add-comment", thanks);
const notConnected = $(".not-connected", root);
const idleDialog = $(".idle-dialog", root);
const staffPanel = $(".staff-panel", root);
const staffButton = $(".staff-button", root);
const bigger = $(".bigger");
const LAST_RATED = "hailong.lastRatedAt";
// A survey's preview for administrators: nothing is stored or sent.
const preview = "preview" in data;

let current = 0;
let trail = [];
let finishing = false;
let busy = false;
// The rating being answered: in the outbox, not sent yet.
let pending = null;
let lastTouch = Date.now();
let updateWaiting = false;
let thanksTimer = 0;
let lastRatedAt = Number(localStorage.getItem(LAST_RATED)) || 0;
let link = null;
let storageError = null;

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; a LAN address over http is not one.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const checked = (step) => $$("input:checked", step);
const polarity = (input) => input.parentElement.className.match(/polarity-(\w+)/)?.[1];

function isShown(step) {
  if (!step.dataset.showIf) return true;
  const [key, wanted] = step.dataset.showIf.split(":");
  return checked(steps.find((s) => s.dataset.key === key)).some((i) => polarity(i) === wanted);
}

// Done when nothing is left; after a positive headline, when only the comment is.
function isDone(index) {
  const [answer] = checked(steps[index]);
  const positive = steps[index].matches(".headline") && answer && polarity(answer) === "positive";
  const rest = steps.slice(index + 1).filter(isShown);
  return !rest.length || (positive && rest.every((s) => s.dataset.kind === "text"));
}

function show(index) {
  current = index;
  steps.forEach((step, i) => step.classList.toggle("current", i === index));
  const kind = steps[index].dataset.kind;
  const needsButton = kind === "multi" || kind === "text";
  actions.classList.toggle("shown", needsButton || trail.length > 0);
  actions.classList.toggle("last", isDone(index));
  sendButton.hidden = !needsButton;
  skipButton.hidden = kind !== "text";
  backButton.hidden = !trail.length;
  intro.hidden = index !== 0;
  // Assistive technology to the new question, without a ring on a choice.
  if (index > 0) $(".legend", steps[index]).focus({ preventScroll: true });
  scrollTo(0, 0);
}

const commentStep = () => steps.findIndex((step, i) => i > current && step.dataset.kind === "text" && isShown(step));

async function advance() {
  if (finishing || busy) return;
  busy = true;
  try {
    if (pending || steps[current].matches(".headline")) {
      if (!(await store())) return reset();
    }
  } finally {
    busy = false;
  }
  // After a positive headline, the thank-you comes at once and offers the comment.
  if (isDone(current)) return finish(steps[current].matches(".headline") && commentStep() >= 0);
  trail.push(current);
  show(steps.findIndex((step, i) => i > current && isShown(step)));
}

function answers() {
  const found = {};
  for (const step of steps.filter(isShown)) {
    const { key, kind } = step.dataset;
    const values = kind === "text" ? [$("textarea", step).value.trim()].filter(Boolean) : checked(step).map((i) => i.value);
    if (values.length) found[key] = kind === "multi" ? values : values[0];
  }
  return found;
}

// Save the answers: a new rating at the first tap (false: too soon after the last).
async function store() {
  if (!pending) {
    const now = Date.now();
    // Against stuffing.
    if (now - lastRatedAt < seconds("minIntervalSeconds") && now >= lastRatedAt) return false;
    lastRatedAt = now;
    try {
      localStorage.setItem(LAST_RATED, String(now));
    } catch {
      // The interval still holds until a reload.
    }
    pending = { id: uuid4(), target: data.target, submitted_at: new Date(now).toISOString() };
  }
  pending.answers = answers();
  pending.locale = html.lang;
  try {
    await queue.add(pending);
  } catch (error) {
    link.noteError(`outbox: ${error}`);
  }
  return true;
}

// The citizen is done: the outbox may send the rating.
function release() {
  if (!pending) return;
  pending = null;
  link.drain();
}

// The thank-you; with `offer`, a button to add a comment while it shows.
function finish(offer = false) {
  finishing = true;
  form.hidden = intro.hidden = true;
  addComment.hidden = !offer;
  thanks.hidden = false;
  performance.mark("kiosk-thanks");
  // Unhappy: held while callback.js offers a call-back.
  const unhappy = !preview && $(".headline .polarity-negative>:checked", form);
  if (!offer && !unhappy) release();
  thanksTimer = setTimeout(reset, seconds("thanksSeconds"));
  if (unhappy) import("./callback.js").then((m) => m.offer(pending, queue, () => clearTimeout(thanksTimer), reset));
}

function writeComment() {
  clearTimeout(thanksTimer);
  finishing = form.hidden = false;
  thanks.hidden = true;
  show(commentStep());
}

function setLanguage(lang) {
  html.lang = lang;
  for (const a of $$("[data-lang]")) {
    if (a.dataset.lang === lang) a.setAttribute("aria-current", "true");
    else a.removeAttribute("aria-current");
  }
}

function setBigger(on) {
  html.classList.toggle("bigger-text", on);
  bigger.setAttribute("aria-pressed", on);
}

function reset() {
  // A citizen who walks away has still rated.
  release();
  if (updateWaiting) return location.reload();
  clearTimeout(thanksTimer);
  form.reset();
  trail = [];
  finishing = false;
  thanks.hidden = true;
  form.hidden = false;
  setLanguage(data.defaultLang);
  setBigger(false);
  for (const dialog of [idleDialog, staffPanel]) if (dialog.open) dialog.close();
  show(0);
}

const isDirty = () =>
  current > 0 ||
  checked(form).length > 0 ||
  $$("textarea", form).some((t) => t.value) ||
  html.lang !== data.defaultLang ||
  html.classList.contains("bigger-text") ||
  staffPanel.open;

// Each second: idle mid-survey, ask "more time?"; after the warning, reset.
function tick() {
  const quiet = Date.now() - lastTouch;
  if (!thanks.hidden || !isDirty()) return idleDialog.open && idleDialog.close();
  const left = Math.ceil((seconds("idleSeconds") + seconds("idleWarningSeconds") - quiet) / 1000);
  if (left <= 0) return reset();
  if (quiet < seconds("idleSeconds")) return;
  for (const span of $$(".countdown", idleDialog)) span.textContent = left;
  if (!idleDialog.open) idleDialog.showModal();
}

function touched(event) {
  lastTouch = Date.now();
  // A tap beside the question "more time?" is a yes.
  if (idleDialog.open && !event.target.closest?.(".idle-dialog > *")) idleDialog.close();
}

function render(state) {
  const trouble = !state.connected || !state.reachable;
  $(".status", root).dataset.state = state.waiting ? "waiting" : trouble ? "offline" : "online";
  for (const span of $$(".queue-count")) span.textContent = state.waiting;
  if (state.officer !== undefined) {
    for (const el of $$(".officer-name")) el.textContent = state.officer?.name ?? "";
    for (const el of $$(".on-duty, .on-duty-some")) el.hidden = !state.officer;
    for (const el of $$(".on-duty-none, .sign-in-forms")) el.hidden = Boolean(state.officer);
  }
  if (state.connected !== notConnected.hidden) {
    notConnected.hidden = state.connected;
    root.classList.toggle("disconnected", !state.connected);
    if (state.connected) reset();
  }
}

const queue = preview
  ? { add() {} }
  : await openQueue((error) => (link ? link.noteError(error) : (storageError = error)));
link = preview
  ? { drain() {}, beat() {}, noteError() {}, call: () => Promise.reject(new Error("preview")) }
  : createLink({
      responsesUrl: data.api,
      kioskApi: data.kioskApi,
      version: data.version,
      queue,
      isHeld: (id) => pending?.id === id,
      heartbeatMs: seconds("heartbeatSeconds"),
      onChange: render,
    });
if (storageError) link.noteError(storageError);

form.addEventListener("change", (event) => {
  if (event.target.type === "radio" && event.target.closest(".question") === steps[current]) advance();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  advance();
});
addComment.addEventListener("click", writeComment);
skipButton.addEventListener("click", () => {
  $("textarea", steps[current]).value = "";
  advance();
});
backButton.addEventListener("click", () => {
  const index = trail.pop();
  // Cleared, so tapping the same answer again moves on again.
  for (const radio of $$("[type=radio]", steps[index])) radio.checked = false;
  show(index);
});
for (const a of $$("[data-lang]")) {
  a.addEventListener("click", (event) => {
    event.preventDefault();
    setLanguage(a.dataset.lang);
  });
}
bigger.addEventListener("click", () => setBigger(!html.classList.contains("bigger-text")));
$(".more-time", idleDialog).addEventListener("click", () => idleDialog.close());
$(".start-over", idleDialog).addEventListener("click", reset);
$(".retry", notConnected).addEventListener("click", () => link.beat());
for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, touched, true);
window.addEventListener("error", (event) => link.noteError(`script: ${event.message}`));

// Staff: a corner button that opens when held (a CSS animation times it), or from a keyboard.
async function openStaff() {
  staffButton.classList.remove("holding");
  const { showStaffPanel } = await import("./staff.js");
  showStaffPanel(staffPanel, link);
}
staffButton.addEventListener("pointerdown", () => staffButton.classList.add("holding"));
for (const type of ["pointerup", "pointerleave", "pointercancel"]) {
  staffButton.addEventListener(type, () => staffButton.classList.remove("holding"));
}
staffButton.addEventListener("animationend", openStaff);
staffButton.addEventListener("click", (event) => event.detail === 0 && openStaff());

noLongPress(document);
if (!preview) {
  keepAwake(link.noteError);
  fullscreenOnTouch();
  cacheShell(data.sw, data.scope, link.noteError, () => {
    // A new version took over: reload into it once nobody is using the kiosk.
    updateWaiting = true;
    if (!isDirty() && thanks.hidden) location.reload();
  });
}

bigger.hidden = false;
root.classList.add("js");
setInterval(tick, 1000);
reset();
link.drain();
