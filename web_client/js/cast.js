// Who a person is in the room, in words: in a case's room their part in the case ("申请人",
// "被申请人代理人", "法院书记员"), otherwise their room role and side.

import { has, t } from "./i18n.js";

/** Labels for `person` (a snapshot participant or the token's claims), most telling first. */
export function castLabels(person) {
  if (person.case_role && has(`caseRole.${person.case_role}`)) return [t(`caseRole.${person.case_role}`)];
  const labels = [t(`role.${person.role}`)];
  if (person.side) labels.push(t(`side.${person.side}`));
  return labels;
}

/** What of a person's media is off, told apart: the mediator's mute of their sound or of their
 * camera (`forced`), or their own microphone or camera switch. Each with its class and words. */
export function muteBadges(person) {
  const forced = person.muted_by_mediator ?? { audio: false, video: false };
  const found = [];
  if (forced.audio) found.push({ kind: "forced audio-forced", key: "badge.audioMutedByMediator" });
  else if (person.audio === false) found.push({ kind: "mic-off", key: "person.micOff" });
  if (forced.video) found.push({ kind: "forced video-forced", key: "badge.videoOffByMediator" });
  else if (person.video === false) found.push({ kind: "cam-off", key: "person.camOff" });
  return found;
}
