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
  // A page re-rendered with form errors opens at the top, while on a phone the first field in
  // error is often several screens down: go to it (Django marks such fields aria-invalid; a form
  // without field errors marks its message with tabindex="-1").
  document.addEventListener("DOMContentLoaded", function () {
    var field = document.querySelector("form [aria-invalid='true'], [role='alert'][tabindex='-1']");
    if (field && field.focus) {
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    }
  });
  // A button with data-print opens the browser's print dialog.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
  });
})();
