// How the pages name steps, dispute types and the person who acts next.

import * as i18n from "../i18n.js";
import { DISPUTE_TYPES_EN } from "./messages.js";

export const STEPS = ["start", "choose_mediator", "counselling", "video_mediation", "result", "evaluation",
  "court_docking"];

let disputeNames = {};

/** The server's Chinese names for dispute types (`GET /api/directory/categories`), fetched once. */
export async function loadDisputeTypes(api) {
  if (Object.keys(disputeNames).length === 0) {
    disputeNames = (await api.get("/api/directory/categories")).dispute_types;
  }
  return disputeNames;
}

export function disputeLabel(type) {
  if (document.documentElement.lang === "en") return DISPUTE_TYPES_EN[type] ?? type;
  return disputeNames[type] ?? type;
}

export function stepLabel(step) {
  return `${STEPS.indexOf(step) + 1}. ${i18n.t(`step.${step}`)}`;
}

/** Who must act now, from the step (the workflow's "responsible") and the case's state. */
export function nextActor(caseView, pendingChoice) {
  if (caseView.status === "closed") return null;
  switch (caseView.step) {
    case "start": return i18n.t("who.respondent");
    case "choose_mediator": return pendingChoice ? i18n.t("who.choice") : i18n.t("who.parties");
    case "counselling":
    case "video_mediation":
    case "result": return i18n.t("who.mediator");
    case "evaluation": return i18n.t("who.parties");
    default: {
      const court = caseView.deadlines.some((d) => d.kind.startsWith("court:") && !d.completed_at
        && !d.kind.startsWith("court:apply"));
      return court ? i18n.t("who.court") : i18n.t("who.parties");
    }
  }
}
