// The agreement's "Print" button. A file rather than an onclick attribute, which the Content
// Security Policy blocks; the button stays hidden where this script does not run.
(function () {
  "use strict";
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
    button.hidden = false;
  });
})();
