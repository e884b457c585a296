// Site-wide behaviour, loaded as a static file (the Content-Security-Policy forbids inline script).
(function () {
  "use strict";
  // htmx sends the CSRF token from the meta tag with every non-GET request.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  // Countdown to a deadline: <span data-countdown="ISO-8601" data-expired-text="..."></span>
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var end = new Date(el.getAttribute("data-countdown")).getTime();
      var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
      if (left === 0) { el.textContent = el.getAttribute("data-expired-text") || "0"; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      var fmt = el.getAttribute("data-format") || "{d} d {h} h {m} min {s} s";
      el.textContent = fmt.replace("{d}", d).replace("{h}", h).replace("{m}", m).replace("{s}", s);
    });
  }
  if (document.querySelector("[data-countdown]")) { tick(); setInterval(tick, 1000); }
  // Confirm dangerous actions: <button data-confirm="Are you sure?">
  document.addEventListener("submit", function (event) {
    var btn = event.submitter;
    if (btn && btn.hasAttribute("data-confirm") && !window.confirm(btn.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
    // Prevent double submission of the same form.
    var form = event.target;
    if (!event.defaultPrevented && form.hasAttribute("data-once")) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    }
  }, true);
})();
