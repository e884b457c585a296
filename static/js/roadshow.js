// Roadshow timer for the projector and the control desk (loaded as a static file: the CSP forbids inline script).
//
// <div data-roadshow data-state-url="…/projector/state/" data-over-text="over time" data-offline-text="…"
//      data-position-format="Finalist {n} of {count}"> with children [data-field="title|organization|phase_label|
// position-label|status"], [data-timer] and optionally [data-over].
// The state is polled every 2 s; the countdown is computed here from the phase start and its duration, on the
// server's clock: offset = server_now - (local time halfway through the request), so a wrong PC clock does not matter.
(function () {
  "use strict";
  var POLL_MS = 2000, TICK_MS = 200, WARN_SECONDS = 60;

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var root = document.querySelector("[data-roadshow]");
  if (!root) { return; }
  var url = root.getAttribute("data-state-url");
  var timerEl = root.querySelector("[data-timer]");
  var overEl = root.querySelector("[data-over]");
  var overText = root.getAttribute("data-over-text") || "";
  var state = null, offsetMs = 0;

  function field(name, text) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function mmss(seconds) { return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60); }

  function render() {
    if (!state) { return; }
    var position = "";
    if (state.position) {
      position = (root.getAttribute("data-position-format") || "{n} / {count}")
        .replace("{n}", state.position).replace("{count}", state.count);
    }
    field("position-label", position);
    field("title", state.title || "");
    field("organization", state.organization || "");
    field("phase_label", state.phase_label || "");
    tick();
  }

  function tick() {
    if (!timerEl || !state) { return; }
    var text = "", over = "", isOver = false, isWarning = false;
    if (state.duration && state.started_at) {
      var nowMs = Date.now() + offsetMs;
      var elapsed = (nowMs - Date.parse(state.started_at)) / 1000;
      var left = Math.ceil(state.duration - elapsed);  // whole seconds still to go; negative once over time
      if (left >= 0) {
        text = mmss(Math.min(left, state.duration));
        isWarning = left <= WARN_SECONDS;
      } else {
        isOver = true;
        text = "+" + mmss(-left);
        over = overText;
      }
    }
    if (!overEl && over) { text = text + " " + over; }
    if (timerEl.textContent !== text) { timerEl.textContent = text; }
    if (overEl && overEl.textContent !== over) { overEl.textContent = over; }
    timerEl.classList.toggle("is-over", isOver);
    timerEl.classList.toggle("text-danger", isOver);
    timerEl.classList.toggle("is-warning", isWarning);
    timerEl.classList.toggle("text-warning", isWarning);
  }

  function poll() {
    var sent = Date.now();
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var received = Date.now();
        offsetMs = Date.parse(data.server_now) - (sent + received) / 2;
        state = data;
        field("status", "");
        render();
      })
      .catch(function () { field("status", root.getAttribute("data-offline-text") || ""); })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  poll();
  window.setInterval(tick, TICK_MS);
})();
