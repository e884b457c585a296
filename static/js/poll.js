// Conditional polling for htmx (loaded as a static file: the CSP forbids inline script).
//
// An element polled with hx-get that carries data-poll-etag="<the ETag of its content>" (the live board's and the
// big screen's cells) sends it as If-None-Match. While nothing changed the server answers 304 Not Modified without a
// body and without building the table; the element then stays as it is (htmx would otherwise swap the empty body
// in). A 200 brings the new content, with its own data-poll-etag, for the next poll.
// The header is set here rather than left to the browser's cache: a request that carries its own If-None-Match
// bypasses the HTTP cache (Fetch standard, "HTTP-network-or-cache fetch"), so the 304 reaches htmx as a 304 instead
// of being turned into a 200 with the cached body, which htmx would swap in again every 5 s.
(function () {
  "use strict";
  document.body.addEventListener("htmx:configRequest", function (event) {
    var etag = event.detail.elt && event.detail.elt.getAttribute("data-poll-etag");
    if (etag && String(event.detail.verb).toLowerCase() === "get") {
      event.detail.headers["If-None-Match"] = etag;
    }
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 304) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
    }
  });
})();
