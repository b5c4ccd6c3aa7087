// Update a running match run's status in place (the region is announced politely), and show
// the proposals by reloading once the run is over. Without JavaScript the "Update now" link
// does the same. A file, not an inline script: the Content Security Policy allows only those.
(function () {
  "use strict";
  const POLL_MILLISECONDS = 2000;

  function poll() {
    setTimeout(async function () {
      // The header tells the server this is no sign of someone at work (staff idle timeout).
      const response = await fetch(location.href, {
        credentials: "same-origin",
        headers: { "X-Kobling-Background": "run-progress" },
      });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("run-status");
      if (!fresh || !fresh.hasAttribute("data-in-progress")) {
        location.reload();
        return;
      }
      document.getElementById("run-status").innerHTML = fresh.innerHTML;
      poll();
    }, POLL_MILLISECONDS);
  }

  const status = document.getElementById("run-status");
  if (status && status.hasAttribute("data-in-progress")) {
    poll();
  }
})();
