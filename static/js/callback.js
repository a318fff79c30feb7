// The call-back offer after an unhappy rating: "Would you like us to contact you?". Loaded by
// kiosk.js only then, so it costs the kiosk's 50 KB shell nothing. Its texts come from
// GET /kiosk/callback in every kiosk language (the service worker keeps a copy for offline use).
// What the citizen leaves travels inside the rating, in the tablet's durable outbox: the server
// opens the case when the rating arrives, even if that is days later.
const $ = (selector, within = document) => within.querySelector(selector);
// Time to read the offer (two and a half thank-yous), to type, and to read the confirmation.
const ASK_MS = 2500 * Number($("#kiosk").dataset.thanksSeconds);
const IDLE_MS = 60000;
const DONE_MS = 6000;
// As the server checks them (surveys/cases.py).
const PHONE = /^\+?[0-9][0-9 .-]{6,18}[0-9]$/;
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$/;
let markup = null;

async function load() {
  if (markup) return markup;
  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = new URL("../css/callback.css", import.meta.url).href;
  document.head.append(style);
  const response = await fetch(`${$("#kiosk").dataset.scope.replace(/\/$/, "")}/callback`);
  if (!response.ok) throw new Error(`call-back offer: HTTP ${response.status}`);
  markup = await response.text();
  return markup;
}

// What is wrong with the details, or "" when they can be sent.
function problem(phone, email, consent) {
  if (!phone && !email) return "contact";
  if (phone && email) return "both";
  if (phone && !PHONE.test(phone)) return "phone";
  if (email && (email.length > 254 || !EMAIL.test(email))) return "email";
  return consent ? "" : "consent";
}

// `rating`: the held rating (in the outbox, not sent yet); `hold` stops the thank-you's own
// timer; `done` starts over, which sends the rating.
export async function offer(rating, queue, hold, done) {
  const thanks = $(".thanks-screen");
  const shown = () => performance.getEntriesByName("kiosk-thanks").length;
  const mine = shown();
  const html = await load();
  // Loaded too late: this thank-you is gone, maybe another citizen's is showing.
  if (thanks.hidden || shown() !== mine) return;
  $(".callback", thanks)?.remove();
  thanks.insertAdjacentHTML("beforeend", html);
  const box = $(".callback", thanks);
  const form = $("form", box);
  const fields = form.elements;
  let timer = 0;
  const startOverIn = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(done, ms);
  };
  // Started over by anything (this box, the staff, a reload): the details leave the screen.
  new MutationObserver((_, observer) => {
    if (!thanks.hidden) return;
    clearTimeout(timer);
    box.remove();
    observer.disconnect();
  }).observe(thanks, { attributes: true, attributeFilter: ["hidden"] });
  hold();
  startOverIn(ASK_MS);

  $(".callback-yes", box).addEventListener("click", () => {
    $(".callback-ask", box).hidden = true;
    form.hidden = false;
    startOverIn(IDLE_MS);
    fields.phone.focus();
  });
  form.addEventListener("input", () => startOverIn(IDLE_MS));
  for (const no of box.querySelectorAll(".callback-cancel")) no.addEventListener("click", () => done());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const phone = fields.phone.value.trim();
    const email = fields.email.value.trim();
    const wrong = problem(phone, email, fields.consent.checked);
    const message = $(".callback-error", form);
    for (const span of message.querySelectorAll("[data-error]")) span.hidden = span.dataset.error !== wrong;
    message.hidden = !wrong;
    if (wrong) return;
    rating.callback = { ...(phone ? { phone } : { email }), consent: true };
    await queue.add(rating);
    form.hidden = true;
    $(".callback-done", box).hidden = false;
    startOverIn(DONE_MS);
  });
}
