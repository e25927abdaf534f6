/* Site-wide behaviour. No inline scripts anywhere (Content Security Policy): pages opt in with data-* attributes. */
(function () {
  "use strict";
  // htmx sends the CSRF token with every non-GET partial request.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.body.getAttribute("data-csrf");
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
  // A button with data-confirm asks before submitting its form.
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
  // A button with data-print opens the browser's print dialog.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
  });
})();
