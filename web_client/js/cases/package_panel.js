// The case package shown in the case page, for those who receive it: what the zip holds (each
// file with its SHA-256 and size), the verdict of the package's check without the signatures
// (every file against the manifest, the audit chain, the recording manifests), and each PDF or
// image inside opening in the page's document viewer. The server builds the same package as the
// download for this reader and serves single files with the same checks.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, el, size } from "./dom.js";

const packagePath = (c, rest) => `/api/cases/${encodeURIComponent(c.id)}/package/${rest}`;

function verdict(check) {
  if (check.valid) {
    return el("p", { class: "package-verdict", dataset: { valid: "yes" },
      text: i18n.t("package.valid", { members: check.members, entries: check.audit?.entries ?? 0 }) });
  }
  return el("div", { class: "package-verdict", dataset: { valid: "no" } },
    el("p", { text: i18n.t("package.invalid") }),
    el("ul", {}, check.reasons.map((r) => el("li", { dataset: { code: r.code },
      text: i18n.has(`package.reason.${r.code}`) ? i18n.t(`package.reason.${r.code}`) : r.code }))));
}

function memberItem(c, m) {
  const kind = i18n.has(`package.kind.${m.kind}`) ? i18n.t(`package.kind.${m.kind}`) : m.kind;
  const name = m.inline_type
    ? el("a", { class: "document-link", href: packagePath(c, `members/${m.sha256}`), "data-viewer": true,
      "data-viewer-name": m.label, text: m.label })
    : el("span", { class: "package-name", text: m.label });
  return el("li", { class: "package-member", dataset: { path: m.path, kind: m.kind } },
    name, " ", el("span", { class: "hint", text: `${kind} · ${size(m.size)}` }),
    m.sha256 ? el("code", { class: "sha256", title: "SHA-256", text: m.sha256 }) : null);
}

async function showContents(c, box) {
  const contents = await api.get(packagePath(c, "contents"));
  box.replaceChildren(
    el("h3", { text: i18n.t("package.heading", { count: contents.members.length }) }),
    verdict(contents.check),
    el("p", { class: "hint", text: i18n.t("package.signaturesElsewhere") }),
    el("ul", { class: "package-members" }, contents.members.map((m) => memberItem(c, m))));
  box.hidden = false;
}

/** The "view the case package" button and the place its contents appear, with a notice for errors. */
export function packageView(c) {
  const box = el("div", { id: "package-contents", class: "package-contents", hidden: true, "aria-live": "polite" });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const button = el("button", { type: "button", class: "button", id: "open-package", "aria-controls": "package-contents",
    text: i18n.t("package.view") });
  button.addEventListener("click", () => {
    if (!box.hidden) { box.hidden = true; return; }
    box.replaceChildren(el("p", { class: "hint", role: "status", text: i18n.t("package.loading") }));
    box.hidden = false;
    busy(button, notice, async () => {
      try { await showContents(c, box); } catch (error) { box.hidden = true; throw error; }
    });
  });
  return { button, box, notice };
}
