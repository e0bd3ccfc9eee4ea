// The one place dates and times become text: in the page's language, 24-hour in Chinese
// ("2026/12/05 19:03"), the user's own time zone. Every page formats through these.

import { language } from "./i18n.js";

function locale() {
  return language() === "zh" ? "zh-CN" : "en-GB";
}

/** A `Date`, an ISO string or epoch seconds/milliseconds as a Date; `null` when not a time. */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = value instanceof Date ? value
    : new Date(typeof value === "number" && value < 1e12 ? value * 1000 : value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function format(value, options) {
  const date = toDate(value);
  return date === null ? "" : new Intl.DateTimeFormat(locale(), { hourCycle: "h23", ...options }).format(date);
}

/** Date and time to the minute: "2026/12/05 19:03". */
export function formatDateTime(value) {
  return format(value, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

/** The date alone: "2026/12/05". */
export function formatDate(value) {
  return format(value, { year: "numeric", month: "2-digit", day: "2-digit" });
}

/** A day written out: "2026年12月5日" / "5 December 2026". */
export function formatLongDate(value) {
  return format(value, { year: "numeric", month: "long", day: "numeric" });
}

/** The time of day: "19:03". */
export function formatTime(value) {
  return format(value, { hour: "2-digit", minute: "2-digit" });
}
