// Directory entries as cards (a phone shows one per row; no wide tables).

import { el } from "../cases/dom.js";
import { disputeName, mediatorCategoryName, organisationCategoryName, t } from "./common.js";

export function tags(values, name = (v) => v) {
  return el("ul", { class: "tags" }, values.map((v) => el("li", { text: name(v) })));
}

export function availability(available) {
  return el("span", { class: "badge", "data-off": !available, text: t(available ? "dir.available" : "dir.unavailable") });
}

export function mediatorCard(m) {
  return el("li", { class: "card result", dataset: { id: m.id } },
    el("h3", {}, el("a", { href: `/mediator.html?id=${encodeURIComponent(m.id)}`, text: m.name })),
    el("span", { class: "hint", text: `${mediatorCategoryName(m.category)} · ${m.region}` }),
    el("span", { class: "hint", text: m.organisation }),
    m.specialities.length ? tags(m.specialities, disputeName) : null,
    availability(m.available));
}

export function organisationCard(o) {
  return el("li", { class: "card result", dataset: { id: o.id } },
    el("h3", {}, el("a", { href: `/organisation.html?id=${encodeURIComponent(o.id)}`, text: o.name })),
    el("span", { class: "hint", text: `${organisationCategoryName(o.category)} · ${o.region}` }),
    el("span", { text: o.address }));
}
