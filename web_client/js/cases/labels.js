// How the pages name steps and dispute types.

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
