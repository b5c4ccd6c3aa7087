// A form sent back with errors opens with its error summary (Designsystemet's pattern): focus
// moves there, so a screen reader reads the heading and the list of what to correct. Each link
// then takes the reader to its field, focused, with the field's label in view.
// Progressive: without this file the summary still has autofocus and the links still jump.
(function () {
  "use strict";

  function labelFor(control) {
    var fieldset = control.closest("fieldset");
    var label = document.querySelector("label[for='" + control.id + "']");
    if (control.type === "radio" || control.type === "checkbox") {
      return (fieldset && fieldset.querySelector("legend")) || label;
    }
    return label || (fieldset && fieldset.querySelector("legend"));
  }

  function goTo(event) {
    var id = decodeURIComponent(event.currentTarget.hash.slice(1));
    var control = document.getElementById(id);
    if (!control) {
      return;
    }
    event.preventDefault();
    control.focus({ preventScroll: true });
    (labelFor(control) || control).scrollIntoView({ block: "start" });
    if (history.replaceState) {
      history.replaceState(null, "", "#" + id);
    }
  }

  function start() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", goTo);
    });
    if (document.activeElement !== summary) {
      summary.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
