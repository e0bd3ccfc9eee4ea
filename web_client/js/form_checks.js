// Form checks in the page's own words. Fields keep their declarative constraints (required,
// minlength, pattern, min/max, type=email), but the browser's validation bubble — in the
// browser's language, gone after a moment — is replaced: when a field fails, the `invalid`
// event's default is prevented and our message is written under the field (role=alert), the
// first failing field gets the focus, and typing clears the message. Installed once for every
// page by i18n.js, so forms built later are covered too.

import { t } from "./i18n.js";

/** The words for a field's first failed constraint (keys of error_messages.js). */
export function problemOf(field) {
  const v = field.validity;
  if (v.valueMissing) return t("validation.missing");
  if (v.tooShort) return t("validation.string_too_short", { min_length: field.minLength });
  if (v.tooLong) return t("validation.string_too_long", { max_length: field.maxLength });
  if (v.rangeUnderflow) return t("validation.greater_than_equal", { ge: field.min });
  if (v.rangeOverflow) return t("validation.less_than_equal", { le: field.max });
  if (v.typeMismatch && field.type === "email") return t("error.invalid_email");
  if (v.typeMismatch && field.type === "url") return t("validation.url_parsing");
  if (v.badInput || v.stepMismatch) return t("validation.float_parsing");
  if (v.patternMismatch || v.typeMismatch) return t("validation.string_pattern_mismatch");
  return t("validation.invalid");
}

function messageBox(field) {
  const next = field.nextElementSibling;
  if (next?.classList.contains("form-check")) return next;
  const box = document.createElement("small");
  box.className = "form-check field-error";
  box.setAttribute("role", "alert");
  field.after(box);
  return box;
}

function show(field) {
  const box = messageBox(field);
  box.textContent = problemOf(field);
  box.hidden = false;
  field.setAttribute("aria-invalid", "true");
  if (!field.id) return;
  field.setAttribute("aria-describedby", box.id || (box.id = `${field.id}-check`));
}

function clear(field) {
  const box = field.nextElementSibling;
  if (!box?.classList.contains("form-check")) return;
  box.hidden = true;
  field.removeAttribute("aria-invalid");
}

let focused = false; // the first failing field of one submit attempt takes the focus

document.addEventListener("invalid", (event) => {
  event.preventDefault();
  show(event.target);
  if (!focused) {
    focused = true;
    event.target.focus();
    queueMicrotask(() => { focused = false; });
  }
}, true);

for (const type of ["input", "change"]) {
  document.addEventListener(type, (event) => {
    if (event.target instanceof Element && event.target.matches("input, select, textarea")
        && event.target.validity?.valid) clear(event.target);
  }, true);
}
