// The judge's score sheet on a phone (loaded as a static file: the CSP forbids inline script).
//
// - Live total: the weighted total (Σ weight × points ÷ maximum, 2 decimals, as judging.services.weighted_total)
//   and its band (data-total-bands) next to the submit button, updated as the judge types. The comment requirement
//   ([data-comment-needed]) shows as soon as the complete total is below data-comment-below or above
//   data-comment-above.
// - Band chips ([data-band-fill]) fill the band's upper bound into their field and focus it.
// - Every keystroke is kept in localStorage under data-storage-key (per judge and sheet) with the sheet version.
//   A judge reopening the page with a kept draft that differs from the saved sheet is asked whether to restore it.
// - "Save draft" and "Submit scores" are sent with fetch (the view answers JSON): when a save fails (no
//   connection) the page says so plainly and keeps the input; a failed draft save is retried when the connection
//   returns. A submit is never retried: it is sent only when the judge taps the button.
(function () {
  "use strict";
  var form = document.querySelector("form[data-sheet]");
  if (!form) { return; }
  var key = form.getAttribute("data-storage-key");
  var versionInput = form.querySelector('input[name="version"]');
  var inputs = Array.prototype.slice.call(form.querySelectorAll('input[name^="c_"]'));
  var comment = form.querySelector('textarea[name="comment"]');
  var totalEl = form.querySelector("[data-total]");
  var bandEl = form.querySelector("[data-total-band]");
  var needEl = form.querySelector("[data-comment-needed]");
  var statusEl = form.querySelector("[data-save-status]");
  var low = Number(form.getAttribute("data-comment-below"));
  var high = Number(form.getAttribute("data-comment-above"));
  var bands = [];
  try { bands = JSON.parse(form.getAttribute("data-total-bands") || "[]"); } catch (e) { bands = []; }
  var pendingSave = false, retryTimer = null;

  function text(name) { return form.getAttribute("data-text-" + name) || ""; }

  function values() {
    var out = {};
    inputs.forEach(function (input) { out[input.name] = input.value; });
    if (comment) { out.comment = comment.value; }
    return out;
  }

  function setValues(saved) {
    inputs.forEach(function (input) { if (saved[input.name] !== undefined) { input.value = saved[input.name]; } });
    if (comment && saved.comment !== undefined) { comment.value = saved.comment; }
  }

  function same(a, b) {
    return Object.keys(a).concat(Object.keys(b)).every(function (k) { return (a[k] || "") === (b[k] || ""); });
  }

  // --- Local copy --------------------------------------------------------------------------------------------------
  function readLocal() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function writeLocal() {
    try {
      localStorage.setItem(key, JSON.stringify({version: Number(versionInput.value), values: values(),
                                                at: new Date().toISOString()}));
    } catch (e) { /* storage full or disabled: the page still works */ }
  }
  function clearLocal() { try { localStorage.removeItem(key); } catch (e) { /* ignore */ } }

  // --- Live total --------------------------------------------------------------------------------------------------
  function recompute() {
    var total = 0, filled = 0;
    inputs.forEach(function (input) {
      var raw = input.value.trim();
      if (raw === "" || isNaN(Number(raw))) { return; }
      total += Number(input.getAttribute("data-weight")) * Number(raw) / Number(input.getAttribute("data-max"));
      filled += 1;
    });
    total = Math.round(total * 100) / 100;
    var complete = filled === inputs.length;
    totalEl.textContent = filled ? total.toFixed(2) : "—";
    var band = "";
    if (complete) {
      for (var i = 0; i < bands.length; i++) {
        if (total >= bands[i].min - 0.005 || i === bands.length - 1) { band = bands[i].label; break; }
      }
    }
    bandEl.textContent = band;
    bandEl.classList.toggle("d-none", !band);
    var needs = complete && (total < low || total > high);
    if (needEl) { needEl.classList.toggle("d-none", !needs); }
    if (comment) { comment.setAttribute("aria-required", needs ? "true" : "false"); }
    form.setAttribute("data-total-value", complete ? total.toFixed(2) : "");
  }

  form.addEventListener("input", function () { recompute(); writeLocal(); });

  form.querySelectorAll("[data-band-fill]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var input = document.getElementById(chip.getAttribute("data-band-for"));
      if (!input) { return; }
      input.value = chip.getAttribute("data-band-fill");
      input.focus();
      recompute();
      writeLocal();
    });
  });

  // --- Restore prompt ----------------------------------------------------------------------------------------------
  var kept = readLocal();
  var prompt = document.querySelector("[data-restore]");
  if (kept && kept.values && !same(kept.values, values()) && prompt) {
    var when = new Date(kept.at);
    prompt.querySelector("[data-restore-text]").textContent = text("restore")
      .replace("{when}", isNaN(when) ? "" : when.toLocaleString())
      .replace("{version}", String(kept.version));
    prompt.classList.remove("d-none");
    prompt.querySelector("[data-restore-yes]").addEventListener("click", function () {
      setValues(kept.values);
      prompt.classList.add("d-none");
      recompute();
      writeLocal();
    });
    prompt.querySelector("[data-restore-no]").addEventListener("click", function () {
      clearLocal();
      prompt.classList.add("d-none");
    });
  } else if (kept && kept.values && same(kept.values, values())) {
    clearLocal();  // the saved sheet already holds it
  }

  // --- Saving ------------------------------------------------------------------------------------------------------
  function status(message, kind) {
    statusEl.textContent = message;
    statusEl.className = "small mb-2" + (kind ? " text-" + kind + " fw-semibold" : "");
  }

  function showErrors(errors) {
    form.querySelectorAll("[data-errors-for]").forEach(function (box) { box.textContent = ""; });
    var all = form.querySelector("[data-errors-all]");
    all.textContent = "";
    Object.keys(errors || {}).forEach(function (name) {
      var box = name === "__all__" ? all : form.querySelector('[data-errors-for="' + name + '"]');
      (errors[name] || []).forEach(function (message) {
        var div = document.createElement("div");
        div.setAttribute("role", "alert");
        div.className = name === "__all__" ? "alert alert-danger" : "text-danger small";
        div.textContent = message;
        (box || all).appendChild(div);
      });
    });
  }

  function scheduleRetry() {
    pendingSave = true;
    if (retryTimer === null) {
      retryTimer = window.setInterval(function () { if (navigator.onLine !== false) { retry(); } }, 4000);
    }
  }
  function retry() {
    if (!pendingSave) { return; }
    status(text("retrying"), "");
    send("save");
  }
  window.addEventListener("online", retry);

  function send(which) {
    var data = new FormData(form);
    data.append(which, "1");
    var meta = document.querySelector('meta[name="csrf-token"]');
    return fetch(form.getAttribute("action") || window.location.href, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "fetch", "Accept": "application/json", "X-CSRFToken": meta ? meta.content : ""}
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (result) {
      pendingSave = false;
      if (retryTimer !== null) { window.clearInterval(retryTimer); retryTimer = null; }
      if (result.ok) {
        versionInput.value = String(result.version);
        clearLocal();
        showErrors({});
        if (result.redirect) { window.location.assign(result.redirect); return; }
        status(result.message || text("saved"), "success");
      } else {
        writeLocal();
        showErrors(result.errors);
        status(text("errors"), "danger");
      }
    }, function () {
      writeLocal();
      if (which === "submit") {
        status(text("submit-offline"), "danger");
      } else {
        status(text("offline"), "danger");
        scheduleRetry();
      }
    }).then(function () { delete form.dataset.sent; });
  }

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }
    event.preventDefault();
    var which = event.submitter && event.submitter.name === "submit" ? "submit" : "save";
    status(text("saving"), "");
    send(which);
  });

  recompute();
})();
