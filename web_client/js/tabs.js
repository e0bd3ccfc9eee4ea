// Keyboard use of a tab list (WAI-ARIA tabs pattern): one tab stop for the list, the arrow keys
// (and Home/End) move to and select the neighbouring tab.

const MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

/** `select(tab)` is what a click on that tab does. */
export function arrowKeysMoveBetweenTabs(list, select) {
  if (!list) return;
  list.addEventListener("keydown", (event) => {
    const tabs = [...list.querySelectorAll('[role="tab"]')].filter((tab) => !tab.hidden && !tab.disabled);
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    let next = null;
    if (event.key in MOVES) next = tabs[(at + MOVES[event.key] + tabs.length) % tabs.length];
    else if (event.key === "Home") next = tabs[0];
    else if (event.key === "End") next = tabs[tabs.length - 1];
    if (!next) return;
    event.preventDefault();
    select(next);
    next.focus();
  });
}
