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

/** How a party is identified on the case page: a person's masked ID number (or that it is not yet
 * known), a company's masked credit code and legal representative. */
export function partyIdentity(party) {
  if (party.kind === "company") {
    return i18n.t("party.companyIdentity", { code: party.id_number ?? "—", representative: party.representative ?? "—" });
  }
  return party.id_number ?? i18n.t("party.idUnknown");
}
