// The proposal form saves itself in the background (venture.proposals.views.proposal_autosave): a moment after the
// applicant stops typing, the whole form is posted with its version; the answer says "saved at 14:32", a conflict
// (someone else saved) or what still needs attention. Nothing typed is ever thrown away: a failed save leaves the
// form as it is. Forms marked data-autosave-first (the attachment upload, placing copied budget lines) reload the
// page, so the text is saved before they are sent.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !form.dataset.autosaveUrl) { return; }
  var DELAY = parseInt(form.dataset.autosaveDelay || "1500", 10);
  var timer = null;
  var dirty = false;
  var running = null;  // the save in flight, a Promise
  var stopped = false;  // after a conflict: saving again would overwrite the other person's version

  function show(text, kind) {
    status.textContent = text;
    status.className = "small ms-2 " + (kind === "error" ? "text-danger" : kind === "ok" ? "text-success" : "text-muted");
  }

  function save() {
    if (stopped) { return Promise.resolve(false); }
    if (running) { return running.then(function () { return dirty ? save() : true; }); }
    clearTimeout(timer);
    dirty = false;
    show(status.dataset.savingText || "…");
    var body = new FormData(form);
    running = fetch(form.dataset.autosaveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"X-Requested-With": "fetch"},
    }).then(function (response) {
      return response.json().then(function (data) { return {status: response.status, data: data}; });
    }).then(function (answer) {
      var data = answer.data;
      if (data.saved) {
        form.querySelector('input[name="version"]').value = String(data.version);
        show(data.message, "ok");
        return true;
      }
      dirty = true;
      if (data.conflict) { stopped = true; }
      show(data.message, "error");
      return false;
    }).catch(function () {
      dirty = true;
      show(status.dataset.failedText || "!", "error");
      return false;
    }).finally(function () { running = null; });
    return running;
  }

  function changed(event) {
    if (!form.contains(event.target) || event.target.type === "file") { return; }
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, DELAY);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // A row deleted or added changes the form too.
  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-add-row]")) { dirty = true; }
  });
  // The main form's own buttons post everything anyway: no background save may race them.
  // A background save still running would move the version on under the form being sent: wait for it, then send
  // the form (with the version it got) as the button would have, without asking the confirmation again.
  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }
    clearTimeout(timer);
    stopped = true;
    if (!running) { return; }
    event.preventDefault();
    var button = event.submitter;
    running.then(function () {
      if (button && button.name) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = button.name;
        input.value = button.value;
        form.appendChild(input);
      }
      form.submit();
    });
  });

  document.querySelectorAll("form[data-autosave-first]").forEach(function (other) {
    other.addEventListener("submit", function (event) {
      if (!dirty || other.dataset.autosaved) { return; }
      event.preventDefault();
      save().then(function (ok) {
        if (ok) {
          other.dataset.autosaved = "1";
          other.requestSubmit();
        }
      });
    });
  });
})();
