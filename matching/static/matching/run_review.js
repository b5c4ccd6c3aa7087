// The run page's "select all" box: ticks or clears every row awaiting review for "Approve
// selected", and shows itself half-ticked when only some are. A file, not an inline script (the
// Content Security Policy allows only those); without JavaScript the box stays hidden and each
// row is ticked on its own.
(function () {
  "use strict";
  const holder = document.querySelector("[data-select-all]");
  if (!holder) {
    return;
  }
  const all = holder.querySelector("input[type=checkbox]");
  const rows = Array.from(
    document.querySelectorAll("input[type=checkbox][name=proposals][form=approve-selected]")
  );

  function show() {
    const ticked = rows.filter(function (row) { return row.checked; }).length;
    all.checked = ticked === rows.length;
    all.indeterminate = ticked > 0 && ticked < rows.length;
  }

  all.addEventListener("change", function () {
    rows.forEach(function (row) { row.checked = all.checked; });
  });
  rows.forEach(function (row) { row.addEventListener("change", show); });
  show();
  holder.hidden = false;
})();
