// A table wider than a phone scrolls inside its own region, with a hint above it to swipe
// sideways. The hint shows only while the table is wider than its region: hidden when it fits,
// shown again when the screen narrows. Without this file the hint shows on every narrow screen.
(function () {
  "use strict";

  function hintBefore(region) {
    var before = region.previousElementSibling;
    return before && before.classList.contains("table-scroll-hint") ? before : null;
  }

  function showHintIfWider(region) {
    var hint = hintBefore(region);
    if (hint) {
      hint.hidden = region.scrollWidth <= region.clientWidth + 1;
    }
  }

  document.querySelectorAll(".table-scroll").forEach(function (region) {
    showHintIfWider(region);
    if ("ResizeObserver" in window) {
      new ResizeObserver(function () {
        showHintIfWider(region);
      }).observe(region);
    }
  });
})();
