// The result reveal: a click anywhere follows the page's [data-reveal-next] link (one place per click); the space bar,
// Enter, the right arrow and Page Down (a presenter's clicker) do the same. Static file: the CSP forbids inline script.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if ([" ", "Enter", "ArrowRight", "PageDown"].indexOf(event.key) === -1) { return; }
    var next = document.querySelector("[data-reveal-next]");
    if (next) { event.preventDefault(); next.click(); }
  });
})();
