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

// Formset rows: "add a row" clones the empty form kept in a <template>; amounts = unit price × quantity.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.getAttribute("data-add-row");
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var tpl = document.querySelector('template[data-empty-row="' + prefix + '"]');
      var body = document.querySelector('[data-formset="' + prefix + '"] tbody');
      if (!total || !tpl || !body) { return; }
      var index = parseInt(total.value, 10);
      var row = document.createElement("tr");
      row.setAttribute("data-row", "");
      row.innerHTML = tpl.innerHTML.replace(/__prefix__/g, String(index));
      body.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
    });
  });
  function toFen(value) {
    var n = Number(value);
    return isFinite(n) ? Math.round(n * 100) : NaN;
  }
  // As venture.money.format_money: the minus before the currency sign (-¥100.00).
  function yuan(fen) {
    var text = (Math.abs(fen) / 100).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    return (fen < 0 ? "-¥" : "¥") + text;
  }
  function recompute() {
    var table = document.querySelector('[data-formset="lines"]');
    if (!table) { return; }
    var totalFen = 0;
    table.querySelectorAll("tbody tr[data-row]").forEach(function (row) {
      var price = row.querySelector('input[name$="-unit_price"]');
      var qty = row.querySelector('input[name$="-quantity"]');
      var del = row.querySelector('input[name$="-DELETE"]');
      var cell = row.querySelector("[data-amount]");
      if (!price || !qty || !cell) { return; }
      var fen = Math.round(toFen(price.value) * Number(qty.value));
      if (price.value === "" || qty.value === "" || isNaN(fen)) { cell.textContent = "—"; return; }
      cell.textContent = yuan(fen);
      if (!(del && del.checked)) { totalFen += fen; }
    });
    var out = table.querySelector("[data-total]");
    if (out) { out.textContent = yuan(totalFen); }
  }
  document.addEventListener("input", recompute);
  document.addEventListener("change", recompute);
  recompute();
})();

// "Select all": <input type="checkbox" data-select-all="NAME"> ticks every checkbox named NAME in its form, and
// shows itself ticked, unticked or mixed as those boxes are ticked one by one.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-all]").forEach(function (master) {
    var form = master.form || document;
    var name = master.getAttribute("data-select-all");
    function boxes() { return form.querySelectorAll('input[type="checkbox"][name="' + name + '"]'); }
    function sync() {
      var all = boxes(), ticked = 0;
      all.forEach(function (box) { if (box.checked) { ticked += 1; } });
      master.checked = all.length > 0 && ticked === all.length;
      master.indeterminate = ticked > 0 && ticked < all.length;
    }
    master.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = master.checked; });
      master.indeterminate = false;
    });
    form.addEventListener("change", function (event) {
      if (event.target !== master && event.target.name === name) { sync(); }
    });
    sync();
  });
})();
