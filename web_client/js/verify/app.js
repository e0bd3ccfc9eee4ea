// The public verification page: upload a PDF, show the verifier's report.

import * as i18n from "../i18n.js";
import { formatDateTime } from "../dates.js";
import { MESSAGES } from "./messages.js";
import { cardsOnPhones } from "../table_cards.js";

i18n.register(MESSAGES);

const $ = (id) => document.getElementById(id);
let lastReport = null;

function cell(text, flag) {
  const td = document.createElement("td");
  td.textContent = text ?? "—";
  if (flag !== undefined) td.className = flag ? "yes" : "no";
  return td;
}

function yesNo(value) {
  return cell(i18n.t(value ? "verify.yes" : "verify.no"), value);
}

// A value the verifier reports as a fixed word ("FORM_FILLING"), in the page's words when it has them.
function enumText(prefix, value) {
  if (value === null || value === undefined) return "—";
  return i18n.has(`${prefix}.${value}`) ? i18n.t(`${prefix}.${value}`) : String(value);
}

// A reason in plain words when the page knows its code, always followed by the verifier's details.
function reasonText(r) {
  const key = `reason.${r.code}`;
  return i18n.has(key) ? `${i18n.t(key)} — ${r.code}: ${r.message}` : `${r.code}: ${r.message}`;
}

function reasonsText(reasons) {
  return reasons.map(reasonText).join("\n");
}

function signerText(signer) {
  const parts = [signer.name, signer.role, signer.side, signer.case_number].filter(Boolean);
  return parts.join(" · ") || signer.organisation;
}

function evidenceText(s) {
  const custody = i18n.t(`verify.custody.${s.key_custody ?? "unknown"}`);
  return s.identity_check ? `${custody}\n${s.identity_check}` : custody;
}

function fact(label, value) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.textContent = i18n.t(label);
  tr.append(th, cell(value));
  return tr;
}

function listItems(reasons) {
  return reasons.map((r) => Object.assign(document.createElement("li"), { textContent: reasonText(r) }));
}

// How the file matches its case on this platform (ids, statuses and hashes only).
function renderPlatform(match) {
  const section = $("platform");
  section.hidden = !match;
  if (!match) return;
  const verdict = $("platform-verdict");
  verdict.dataset.valid = String(match.consistent);
  verdict.textContent = i18n.t(!match.found ? "verify.platform.not_found"
    : match.consistent ? "verify.platform.consistent" : "verify.platform.mismatch");
  $("platform-reasons").replaceChildren(...listItems(match.reasons));
  const facts = [fact("verify.platform.file_sha256", match.file_sha256)];
  if (match.found) {
    const version = `v${match.version} · ${i18n.t(`verify.status.${match.version_status}`)}` +
      (match.current ? "" : ` · ${i18n.t("verify.platform.superseded_by")} v${match.current_version}`);
    facts.push(
      fact("verify.platform.case_number", match.case_number),
      fact("verify.platform.agreement", match.agreement_id),
      fact("verify.platform.version", version),
      fact("verify.platform.revision",
        `${i18n.t(`verify.revision.${match.revision}`)} (${match.revision_number ?? "—"} / ${match.stored_revisions - 1})`),
      fact("verify.platform.final_sha256", match.final_sha256),
    );
  }
  $("platform-facts").replaceChildren(...facts);
  $("platform-evidence").replaceChildren(...match.evidence.map((e) => {
    const tr = document.createElement("tr");
    tr.append(cell(i18n.t(`verify.evidence.${e.kind}`)), cell(e.sha256), yesNo(e.printed));
    return tr;
  }));
}

// A court's ruling: who ruled what, on which agreement file (the verifier read it from the document).
function renderRuling(ruling) {
  const section = $("ruling");
  section.hidden = !ruling;
  if (!ruling) return;
  $("ruling-facts").replaceChildren(
    fact("verify.ruling.court", ruling.court),
    fact("verify.ruling.number", ruling.court_case_number),
    fact("verify.ruling.decision", i18n.t(`verify.ruling.${ruling.kind}.${ruling.decision}`)),
    fact("verify.ruling.judge", ruling.judge),
    fact("verify.ruling.ruled_at", formatDateTime(ruling.ruled_at) || "—"),
    fact("verify.ruling.application", `${ruling.application_id} · ${ruling.case_id}`),
    fact("verify.ruling.agreement", ruling.agreement_id),
    fact("verify.ruling.agreement_sha256", ruling.agreement_sha256),
  );
}

function scoresText(scores) {
  return Object.entries(scores).map(([method, values]) => `${i18n.t(`verify.method.${method}`)}: ` +
    Object.entries(values).map(([name, value]) => `${name}=${value ?? "—"}`).join(", ")).join("\n");
}

// The signer's live face against their seat's face in the case's recorded session (absent: no recording).
function recordedSessionCell(compared) {
  if (!compared) return cell(i18n.t("verify.recorded_session.none"));
  const text = [
    i18n.t(`verify.recorded_session.${compared.verdict}`),
    i18n.t(compared.required ? "verify.recorded_session.required" : "verify.recorded_session.reported"),
    `${i18n.t("verify.recorded_session.seat")}: ${compared.seat} · ${compared.session_id}`,
    `score=${compared.score ?? "—"}, best=${compared.best ?? "—"}, threshold=${compared.threshold}`,
    i18n.t("verify.recorded_session.frames", { frames: compared.frames_used, segments: compared.segments }),
  ].join("\n");
  return cell(text, compared.verdict === "match");
}

// Every identity attestation each signature cites (one per check that allowed it: face, liveness,
// code, provider), as the platform found and checked it.
function renderAttestations(signatures) {
  const cited = signatures.flatMap((s) => (s.attestations || []).map((a) => [s, a]));
  $("attestations-section").hidden = cited.length === 0;
  $("attestations").replaceChildren(...cited.map(([s, a]) => {
    const tr = document.createElement("tr");
    tr.append(cell(s.field), cell(i18n.t(`verify.attestation.${a.status}`), a.status === "valid"),
      cell(a.methods.map((m) => i18n.t(`verify.method.${m}`)).join(" + ") || null),
      cell(a.verdict ? i18n.t(`verify.verdict.${a.verdict}`) + (a.verdict_reason ? ` (${a.verdict_reason})` : "") : null),
      cell(scoresText(a.scores) || null), cell(a.challenges.join(" → ") || null),
      recordedSessionCell(a.recorded_session), cell(formatDateTime(a.checked_at) || "—"),
      cell(a.sha256), cell(reasonsText(a.reasons)));
    return tr;
  }));
}

// A recording package: the session, each finding (code, place, message) and each chain-head stamp.
function findingText(f) {
  const key = `finding.${f.code}`;
  return i18n.has(key) ? i18n.t(key) : f.code;
}

function renderRecording(report) {
  lastReport = report;
  $("result").hidden = false;
  $("pdf-report").hidden = true;
  $("recording").hidden = false;
  const verdict = $("verdict");
  verdict.dataset.valid = String(report.ok);
  verdict.textContent = i18n.t(report.ok ? "verify.recording.intact" : "verify.recording.altered");
  $("reasons").replaceChildren();
  $("notes").replaceChildren();
  $("recording-facts").replaceChildren(
    fact("verify.recording.session", report.session_id),
    fact("verify.recording.state", enumText("recordingState", report.state)),
    fact("verify.recording.manifest_sha256", report.manifest_sha256),
    fact("verify.recording.segments", String(report.segments)),
    fact("verify.recording.chain_length", String(report.chain_length)),
  );
  $("recording-findings").replaceChildren(...report.findings.map((f) => {
    const tr = document.createElement("tr");
    tr.dataset.code = f.code;
    tr.append(cell(`${findingText(f)} (${f.code})`), cell(f.where), cell(f.message));
    return tr;
  }));
  $("recording-stamps").replaceChildren(...report.stamps.map((s) => {
    const tr = document.createElement("tr");
    tr.append(cell(String(s.position)), cell(formatDateTime(s.time) || "—"), cell(s.tsa), yesNo(s.final), yesNo(s.ok));
    return tr;
  }));
  labelReportTables();
  document.body.dataset.state = report.ok ? "valid" : "invalid";
}

/** The report's tables with column headings become a card per row on a phone. */
function labelReportTables() {
  for (const table of document.querySelectorAll("table.report")) if (table.tHead) cardsOnPhones(table);
}

function render(report) {
  if (report.kind === "recording_package") {
    renderRecording(report);
    return;
  }
  $("pdf-report").hidden = false;
  $("recording").hidden = true;
  lastReport = report;
  $("result").hidden = false;
  const verdict = $("verdict");
  verdict.dataset.valid = String(report.valid);
  verdict.textContent = i18n.t(report.valid ? "verify.valid" : "verify.invalid");
  const reasons = $("reasons");
  reasons.replaceChildren(...listItems(report.reasons));
  renderRuling(report.ruling);
  renderPlatform(report.document_kind === "ruling" ? null : report.platform); // the platform matches agreements
  $("notes").replaceChildren(...report.notes.map((n) => Object.assign(document.createElement("li"), { textContent: n })));
  const rows = report.signatures.map((s) => {
    const tr = document.createElement("tr");
    tr.append(cell(s.field), cell(signerText(s.signer)), cell(formatDateTime(s.signing_time) || "—"), yesNo(s.intact), yesNo(s.valid),
      yesNo(s.trusted), cell(enumText("revocation", s.revocation)), cell(enumText("modification", s.modification_level)), cell(evidenceText(s)), yesNo(s.ok),
      cell(reasonsText(s.reasons)));
    return tr;
  });
  $("signatures").replaceChildren(...rows);
  renderAttestations(report.signatures);
  const stamps = report.document_timestamps.map((t) => {
    const tr = document.createElement("tr");
    tr.append(cell(t.field), cell(t.time), cell(t.tsa), yesNo(t.intact), yesNo(t.trusted), yesNo(t.ok),
      cell(reasonsText(t.reasons)));
    return tr;
  });
  $("timestamps").replaceChildren(...stamps);
  labelReportTables();
  document.body.dataset.state = report.valid ? "valid" : "invalid";
}

function showError(code, message) {
  $("result").hidden = true;
  const box = $("error");
  box.hidden = false;
  box.textContent = i18n.errorMessage(code, message);
  document.body.dataset.state = "error";
}

async function submit(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  $("error").hidden = true;
  $("submit").disabled = true;
  $("submit").textContent = i18n.t("verify.working");
  document.body.dataset.state = "working";
  try {
    // a PDF or a recording package zip: the server tells them apart by their content
    const type = file.type === "application/pdf" ? "application/pdf" : "application/octet-stream";
    const response = await fetch("/api/verify", { method: "POST", headers: { "Content-Type": type }, body: file });
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      showError(payload?.error?.code ?? `http_${response.status}`, payload?.error?.message ?? response.statusText);
    } else {
      render(payload);
    }
  } catch (error) {
    showError("network", String(error));
  } finally {
    $("submit").disabled = false;
    $("submit").textContent = i18n.t("verify.submit");
  }
}

i18n.applyTranslations();
$("form").addEventListener("submit", submit);
$("lang").addEventListener("click", () => {
  i18n.toggleLanguage();
  if (lastReport) render(lastReport);
});
