// The judge's day view (home page): follows the roadshow without a reload. Each [data-judge-day] section polls its
// data-state-url every 5 s ({proposal, position, phase_label, ...}; 304 while unchanged) and marks the judge's row of
// the finalist on stage ([data-proposal]), fills "on stage now" and "next up", and points the one-tap button
// ([data-day-open]) at the row's declaration or score sheet (data-href, data-action). Loaded as a static file: the CSP
// forbids inline script.
(function () {
  "use strict";
  var POLL_MS = 5000;

  document.querySelectorAll("[data-judge-day]").forEach(function (day) {
    var url = day.getAttribute("data-state-url");
    var rows = Array.prototype.slice.call(day.querySelectorAll("[data-proposal]"));
    var open = day.querySelector("[data-day-open]");
    var last = null;

    function setText(name, text) {
      var el = day.querySelector('[data-day-field="' + name + '"]');
      if (el && el.textContent !== text) { el.textContent = text; }
    }

    function apply(state) {
      var current = null;
      rows.forEach(function (row) {
        var here = state.proposal !== null && String(state.proposal) === row.getAttribute("data-proposal");
        row.classList.toggle("list-group-item-warning", here);
        if (here) { row.setAttribute("aria-current", "true"); current = row; } else { row.removeAttribute("aria-current"); }
        var badge = row.querySelector("[data-on-stage-badge]");
        if (badge) { badge.classList.toggle("d-none", !here); }
      });
      if (current) {
        setText("on-stage", current.getAttribute("data-title"));
        setText("phase", current.getAttribute("data-organization") + " · " + (state.phase_label || ""));
      } else {
        setText("on-stage", state.title ? state.position + ". " + state.title : day.getAttribute("data-nothing-text"));
        setText("phase", state.title ? (state.organization || "") + " · " + (state.phase_label || "") : "");
      }
      var after = state.position || 0;
      var next = rows.filter(function (row) { return Number(row.getAttribute("data-position")) > after; })[0];
      setText("next", next ? next.getAttribute("data-title") : "—");
      if (open) {
        var href = current ? current.getAttribute("data-href") : "";
        open.classList.toggle("d-none", !href);
        if (href) {
          if (open.getAttribute("href") !== href) { open.setAttribute("href", href); }
          if (open.textContent !== current.getAttribute("data-action")) { open.textContent = current.getAttribute("data-action"); }
        }
      }
    }

    // Conditional: the ETag of the last state goes out as If-None-Match and a 304 (nothing changed, nothing built
    // on the server) leaves the page as it is. A request with its own If-None-Match bypasses the browser's cache, so
    // the 304 reaches this script as a 304.
    var etag = null;

    function poll() {
      var headers = {"Accept": "application/json"};
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(url, {credentials: "same-origin", cache: "no-store", headers: headers})
        .then(function (response) {
          if (response.status === 304) { return null; }
          if (!response.ok) { throw new Error(String(response.status)); }
          etag = response.headers.get("ETag");
          return response.json();
        })
        .then(function (state) {
          if (state !== null) { last = state; }
          if (last !== null) { apply(last); }
        })
        .catch(function () { setText("phase", day.getAttribute("data-offline-text") || ""); })
        .then(function () { window.setTimeout(poll, POLL_MS); });
    }

    poll();
  });
})();
