// The ticket for browser printing: fit the page to the ticket's height, print, tell the kiosk.
// Chromium started with --kiosk-printing prints at once on the default printer, with no dialog.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  if (params.get("print") !== "1") return; // opened to look at, not to print

  var MM_PER_PX = 25.4 / 96;

  function fitPage() {
    var ticket = document.getElementById("ticket");
    var paper = ticket.getAttribute("data-paper");
    var height = Math.ceil(ticket.getBoundingClientRect().height * MM_PER_PX) + 4;
    document.getElementById("page-size").textContent =
      "@page { size: " + paper + "mm " + height + "mm; margin: 0; }";
  }

  function tell(printed, error) {
    if (window.parent === window) return;
    window.parent.postMessage(
      { type: "xephang-slip", ticket: document.getElementById("ticket").getAttribute("data-ticket"),
        printed: printed, error: error || null },
      location.origin
    );
  }

  function printNow() {
    try {
      fitPage();
      window.print();
      tell(true);
    } catch (err) {
      tell(false, String(err));
    }
  }

  window.addEventListener("load", function () {
    // The number must not print in a fallback font: wait for the bundled one.
    var ready = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
    ready.then(printNow, printNow);
  });
})();
