// The pairing page's on-screen keypad: digit buttons type into the code field.
// Without JavaScript the keypad stays hidden and the field opens the system's number keyboard.
const CODE_LENGTH = 8;

const form = document.querySelector("[data-keypad-form]");
const input = form && form.querySelector("input[name=code]");
const pad = form && form.querySelector("[data-keypad]");

function show(digits) {
  input.value = digits.length > 4 ? `${digits.slice(0, 4)} ${digits.slice(4)}` : digits;
}

if (form && input && pad) {
  pad.hidden = false;
  // The on-screen keypad replaces the system keyboard, which would otherwise cover it.
  input.setAttribute("inputmode", "none");
  pad.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-key]");
    if (!button) return;
    const key = button.dataset.key;
    let digits = input.value.replace(/\D/g, "");
    if (key === "back") digits = digits.slice(0, -1);
    else if (key === "clear") digits = "";
    else if (digits.length < CODE_LENGTH) digits += key;
    show(digits);
  });
}
