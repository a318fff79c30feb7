// The counter kiosk: one question per screen, a rating queued on the tablet before the
// thank-you shows, then back to the start for the next citizen.
import { createSender, enqueue } from "./queue.js";

const root = document.getElementById("kiosk");
const form = root.querySelector("form");
const steps = [...form.querySelectorAll(".question")];
const actions = form.querySelector(".actions");
const sendButton = actions.querySelector(".send");
const skipButton = actions.querySelector(".skip-step");
const thanks = root.querySelector(".thanks-screen");
const thanksSeconds = Number(root.dataset.thanksSeconds || 6);

const sender = createSender({ url: root.dataset.api, token: root.dataset.token });
let current = 0;
let answers = {};
let polarities = {};

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; a LAN address over http is not one.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function isShown(step) {
  const rule = step.dataset.showIf;
  if (!rule) return true;
  const [question, polarity] = rule.split(":");
  return (polarities[question] || []).includes(polarity);
}

function show(index) {
  current = index;
  steps.forEach((step, i) => step.classList.toggle("current", i === index));
  const kind = steps[index].dataset.kind;
  const needsButtons = kind === "multi" || kind === "text";
  actions.classList.toggle("shown", needsButtons);
  skipButton.hidden = kind !== "text";
  // Move assistive technology to the new question without drawing a ring on a choice.
  if (index > 0) steps[index].querySelector(".legend")?.focus({ preventScroll: true });
}

function nextIndex(from) {
  for (let i = from + 1; i < steps.length; i += 1) if (isShown(steps[i])) return i;
  return -1;
}

function onlyOptionalTextLeft(from) {
  for (let i = from + 1; i < steps.length; i += 1) {
    if (isShown(steps[i]) && steps[i].dataset.kind !== "text") return false;
  }
  return true;
}

function record(step) {
  const key = step.dataset.key;
  const kind = step.dataset.kind;
  if (kind === "text") {
    const text = step.querySelector("textarea").value.trim();
    if (text) answers[key] = text;
    else delete answers[key];
    return;
  }
  const checked = [...step.querySelectorAll("input:checked")];
  polarities[key] = checked.map((input) => input.dataset.polarity);
  if (kind === "multi") {
    if (checked.length) answers[key] = checked.map((input) => input.value);
    else delete answers[key];
  } else if (checked.length) {
    answers[key] = checked[0].value;
  }
}

function advance() {
  const step = steps[current];
  record(step);
  const positiveHeadline = step.classList.contains("headline") && polarities[step.dataset.key]?.[0] === "positive";
  const next = nextIndex(current);
  if (next === -1 || (positiveHeadline && onlyOptionalTextLeft(current))) finish();
  else show(next);
}

function finish() {
  const payload = {
    id: uuid4(),
    target: root.dataset.target,
    answers: { ...answers },
    locale: root.dataset.locale,
    submitted_at: new Date().toISOString(),
  };
  enqueue(payload);
  form.hidden = true;
  thanks.hidden = false;
  sender.drain();
  setTimeout(reset, thanksSeconds * 1000);
}

function reset() {
  form.reset();
  answers = {};
  polarities = {};
  thanks.hidden = true;
  form.hidden = false;
  show(0);
}

form.addEventListener("change", (event) => {
  const step = event.target.closest(".question");
  if (step && event.target.type === "radio" && step === steps[current]) advance();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  advance();
});
skipButton.addEventListener("click", () => {
  const text = steps[current].querySelector("textarea");
  if (text) text.value = "";
  advance();
});
sendButton.textContent = sendButton.textContent.trim();
root.addEventListener("contextmenu", (event) => event.preventDefault());

root.classList.add("js");
show(0);
sender.drain();
