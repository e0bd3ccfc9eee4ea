// Documents open in the page, on a phone too: PDFs drawn by pdf.js (served by our server, no
// plug-in, no new tab that a phone would turn into a download), images shown inline, anything
// else offered as a download. The server's own checks decide who may fetch a file; the viewer
// only shows what it was given, or says that it was refused.

import * as i18n from "../i18n.js";
import { MESSAGES } from "./messages.js";

i18n.register(MESSAGES);

const PDFJS = "/vendor/pdfjs/build/pdf.min.mjs";
/** A bound on the canvases one document may create (memory on a phone). */
const MAX_PAGES = 60;

let pdfjsLoading = null;

function pdfjs() {
  pdfjsLoading ??= import(PDFJS).then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = "/vendor/pdfjs/build/pdf.worker.min.mjs";
    return lib;
  });
  return pdfjsLoading;
}

function node(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") el.textContent = value;
    else el.setAttribute(key, value);
  }
  el.append(...children);
  return el;
}

/** The dialog, made once per page. */
function dialog() {
  let box = document.getElementById("document-viewer");
  if (box) return box;
  const title = node("h2", { id: "viewer-title" });
  const original = node("a", { id: "viewer-original", class: "button", download: "" });
  const close = node("button", { type: "button", id: "viewer-close", class: "button" });
  const body = node("div", { id: "viewer-body", class: "viewer-body", tabindex: "0", role: "region",
    "aria-labelledby": "viewer-title" });
  box = node("dialog", { id: "document-viewer", class: "viewer", "aria-labelledby": "viewer-title" },
    node("div", { class: "viewer-head" }, title, node("span", { class: "viewer-tools" }, original, close)), body);
  close.addEventListener("click", () => box.close());
  box.addEventListener("close", () => {
    body.replaceChildren();
    for (const url of box.blobUrls ?? []) URL.revokeObjectURL(url);
    box.blobUrls = [];
    box.opener?.focus?.();
  });
  document.body.append(box);
  return box;
}

function say(body, key, params, kind = "info") {
  body.replaceChildren(node("p", { class: "viewer-message", role: kind === "error" ? "alert" : "status",
    "data-kind": kind, text: i18n.t(key, params) }));
}

async function renderPdf(body, bytes) {
  const lib = await pdfjs();
  const pdf = await lib.getDocument({ data: bytes, isEvalSupported: false, useWasm: false,
    cMapUrl: "/vendor/pdfjs/cmaps/", cMapPacked: true, standardFontDataUrl: "/vendor/pdfjs/standard_fonts/" }).promise;
  const shown = Math.min(pdf.numPages, MAX_PAGES);
  const pages = node("div", { class: "viewer-pages", "data-pages": String(pdf.numPages) });
  body.replaceChildren(node("p", { class: "hint", text: i18n.t("viewer.pages", { pages: pdf.numPages }) }), pages);
  if (shown < pdf.numPages) body.append(node("p", { class: "hint", text: i18n.t("viewer.truncated", { shown, pages: pdf.numPages }) }));
  const width = Math.max(pages.clientWidth, 280);
  const ratio = Math.min(window.devicePixelRatio || 1, 2);
  for (let number = 1; number <= shown; number += 1) {
    const page = await pdf.getPage(number);
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: Math.min(width / base.width, 2) * ratio });
    const canvas = node("canvas", { class: "viewer-page", role: "img", "aria-label": i18n.t("viewer.page", { page: number }) });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    pages.append(canvas);
    await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
    canvas.dataset.rendered = "yes";
  }
  await pdf.destroy();
}

/** Open `url` (one of our document endpoints) in the viewer, titled `name`; `headers` for pages
 * that authenticate with a key rather than the session cookie; focus returns to `opener`. */
export async function openDocument(url, name, { opener = null, headers = {} } = {}) {
  const box = dialog();
  const body = box.querySelector("#viewer-body");
  box.opener = opener;
  box.querySelector("#viewer-title").textContent = name;
  const original = box.querySelector("#viewer-original");
  original.href = url;
  original.textContent = i18n.t("viewer.original");
  box.querySelector("#viewer-close").textContent = i18n.t("viewer.close");
  box.dataset.state = "loading";
  say(body, "viewer.loading");
  if (!box.open) box.showModal();
  try {
    const response = await fetch(url, { credentials: "same-origin", headers });
    if (!response.ok) {
      box.dataset.state = "refused";
      say(body, [401, 403, 404].includes(response.status) ? "viewer.refused" : "viewer.failed", {}, "error");
      return;
    }
    const type = (response.headers.get("content-type") || "").split(";")[0].trim();
    if (type === "application/pdf") {
      await renderPdf(body, new Uint8Array(await response.arrayBuffer()));
    } else if (type.startsWith("image/")) {
      const blobUrl = URL.createObjectURL(await response.blob());
      box.blobUrls = [...(box.blobUrls ?? []), blobUrl];
      body.replaceChildren(node("img", { class: "viewer-image", src: blobUrl, alt: name }));
    } else {
      say(body, "viewer.notPreviewable");
    }
    box.dataset.state = "ready";
  } catch (error) {
    console.warn("document viewer:", error);
    box.dataset.state = "failed";
    say(body, "viewer.failed", {}, "error");
  }
}

/** Links marked `data-viewer` under `root` open in the viewer; their href stays a plain link
 * (a new tab or a download with a modifier key or from the context menu). `headers()`: see
 * openDocument. */
export function openLinksInViewer(root = document, headers = () => ({})) {
  root.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[data-viewer]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    openDocument(link.getAttribute("href"), link.dataset.viewerName || link.textContent.trim(),
      { opener: link, headers: headers() });
  });
}
