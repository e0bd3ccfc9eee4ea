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
