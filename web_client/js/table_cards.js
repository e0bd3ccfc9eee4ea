// Tables of rows that turn into a card per row on a phone (css/table-cards.css): each cell carries
// its column's heading, which the card shows before the value.

/** Label `table`'s body cells with their column headings (call again after the rows change). */
export function cardsOnPhones(table) {
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.children].forEach((cell, i) => { if (headings[i]) cell.dataset.label = headings[i]; });
  }
  table.classList.add("cards-on-phones");
  return table;
}
