// Roadshow timer for the projector and the control desk (loaded as a static file: the CSP forbids inline script).
//
// <div data-roadshow data-state-url="…/projector/state/" data-over-text="over time" data-offline-text="…"
//      data-position-format="Finalist {n} of {count}"> with children [data-field="title|organization|phase_label|
// position-label|status"], [data-timer] and optionally [data-over].
// The state is polled every 2 s (304 while unchanged, see poll()); the countdown is computed here from the phase
// start and its duration, on the server's clock: offset = server_now - (local time halfway through the request), so a
// wrong PC clock does not matter.
// A paused timer (paused_at) stands still at the time left when it was paused. The last minute is amber
// (is-warning), the last 10 seconds red (is-danger), then over time. [data-field="sheets_label"] shows
// "scoring open · 7 of 9 sheets in" (counts only). An optional chime sounds when the last minute and the last 10
// seconds begin and at zero: on the console through the [data-chime-toggle] checkbox (remembered in this browser),
// on the projector when its address carries ?chime=1.
// On the staff console ([data-console]) the keys are shortcuts: space pauses or resumes the timer, N moves to the
// next finalist (they click the buttons marked data-key="space" / data-key="n"; never while typing in a field).
(function () {
  "use strict";
  var POLL_MS = 2000, TICK_MS = 200, WARN_SECONDS = 60, DANGER_SECONDS = 10;

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var root = document.querySelector("[data-roadshow]");
  if (!root) { return; }
  var url = root.getAttribute("data-state-url");
  var timerEl = root.querySelector("[data-timer]");
  var overEl = root.querySelector("[data-over]");
  var overText = root.getAttribute("data-over-text") || "";
  var state = null, offsetMs = 0, lastLeft = null;
  var chimeToggle = document.querySelector("[data-chime-toggle]");
  var audio = null;

  if (chimeToggle) {
    chimeToggle.checked = window.localStorage && localStorage.getItem("venture.roadshow.chime") === "1";
    chimeToggle.addEventListener("change", function () {
      try { localStorage.setItem("venture.roadshow.chime", chimeToggle.checked ? "1" : "0"); } catch (e) { /* private mode */ }
      if (chimeToggle.checked) { chime(); }
    });
  }

  function chimeOn() {
    if (chimeToggle) { return chimeToggle.checked; }
    return /[?&]chime=1(&|$)/.test(window.location.search);
  }

  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    try {
      audio = audio || new Ctx();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the colours still warn */ }
  }

  if (root.hasAttribute("data-console")) {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) { return; }
      var key = event.key === " " ? "space" : (event.key || "").toLowerCase();
      var button = document.querySelector('[data-key="' + key + '"]');
      if (button && !button.disabled) {
        event.preventDefault();
        button.click();
      }
    });
  }

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
    field("sheets_label", state.sheets_label || "");
    field("paused", state.paused_at ? (root.getAttribute("data-paused-text") || "") : "");
    tick();
  }

  function tick() {
    if (!timerEl || !state) { return; }
    var text = "", over = "", isOver = false, isWarning = false, isDanger = false;
    if (state.duration && state.started_at) {
      var nowMs = state.paused_at ? Date.parse(state.paused_at) : Date.now() + offsetMs;
      var elapsed = (nowMs - Date.parse(state.started_at)) / 1000;
      var left = Math.ceil(state.duration - elapsed);  // whole seconds still to go; negative once over time
      if (lastLeft !== null && chimeOn() && !state.paused_at &&
          ((lastLeft > WARN_SECONDS && left <= WARN_SECONDS) || (lastLeft > DANGER_SECONDS && left <= DANGER_SECONDS) ||
           (lastLeft > 0 && left <= 0))) {
        chime();
      }
      lastLeft = left;
      if (left >= 0) {
        text = mmss(Math.min(left, state.duration));
        isDanger = left <= DANGER_SECONDS;
        isWarning = !isDanger && left <= WARN_SECONDS;
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
    timerEl.classList.toggle("is-danger", isDanger);
    timerEl.classList.toggle("text-danger", isOver || isDanger);
    timerEl.classList.toggle("is-paused", Boolean(state.paused_at));
    root.setAttribute("data-timer-state", isOver ? "over" : isDanger ? "danger" : isWarning ? "warning" : "normal");
    timerEl.classList.toggle("is-warning", isWarning);
    timerEl.classList.toggle("text-warning", isWarning);
  }

  // Each poll sends the ETag of the last state it was given as If-None-Match; while nothing changed the server
  // answers 304 Not Modified without a body (and without building the state), and the countdown carries on from the
  // state already here. A request that carries its own If-None-Match bypasses the browser's HTTP cache (Fetch
  // standard), so the 304 reaches this script as a 304; cache: "no-store" says the same for the 200s.
  var etag = null;

  function poll() {
    var sent = Date.now();
    var headers = {"Accept": "application/json"};
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (response) {
        if (response.status === 304) { return null; }
        if (!response.ok) { throw new Error(String(response.status)); }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        field("status", "");
        if (data === null) { return; }  // 304: the state here is still the server's
        var received = Date.now();
        offsetMs = Date.parse(data.server_now) - (sent + received) / 2;
        state = data;
        render();
      })
      .catch(function () { field("status", root.getAttribute("data-offline-text") || ""); })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  poll();
  window.setInterval(tick, TICK_MS);
})();
