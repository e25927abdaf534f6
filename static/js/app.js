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
  // A desk list shown as cards on a phone (table.stack, app.css) changes the display of its table,
  // rows and cells, and Safari then stops exposing a table to screen readers: explicit roles keep
  // it one. Rows that htmx swaps in get theirs too (htmx:load fires for each new element).
  var TABLE_ROLES = [["table.stack", "table"], ["thead, tbody", "rowgroup"], ["tr", "row"],
    ["thead th", "columnheader"], ["tbody th", "rowheader"], ["td", "cell"]];
  function tableRoles(root) {
    var tables = root.matches && root.matches("table.stack") ? [root] : [];
    var outer = root.closest && root.closest("table.stack");
    if (outer) { tables.push(outer); }
    (root.querySelectorAll ? root.querySelectorAll("table.stack") : []).forEach(function (t) { tables.push(t); });
    tables.forEach(function (table) {
      TABLE_ROLES.forEach(function (pair) {
        if (table.matches(pair[0])) { table.setAttribute("role", pair[1]); }
        table.querySelectorAll(pair[0]).forEach(function (el) {
          if (el.closest("table") === table) { el.setAttribute("role", pair[1]); }
        });
      });
    });
  }
  // A table wider than its .table-wrap scrolls sideways inside it: keyboard users reach the hidden
  // columns only if the scrolling box takes focus (WCAG 2.1.1).
  function scrollableWraps() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth) { wrap.setAttribute("tabindex", "0"); }
      else { wrap.removeAttribute("tabindex"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tableRoles(document); scrollableWraps(); });
  document.addEventListener("htmx:load", function (event) { tableRoles(event.target); });
  // A fragment htmx swaps in after an action (an inbox row) replaces the button that had the focus,
  // which then falls back to the start of the page: keyboard and screen-reader users lose their place.
  // The fragment marks where the focus goes (its result message, read out when focused) with
  // data-swap-focus. Only a focus lost to <body> moves: never one the user has put elsewhere meanwhile.
  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root.querySelector || root === document.body) { return; }  // the page's own load
    var spot = root.matches("[data-swap-focus]") ? root : root.querySelector("[data-swap-focus]");
    var active = document.activeElement;
    if (spot && (!active || active === document.body || !active.isConnected)) {
      spot.focus({ preventScroll: true });
      spot.scrollIntoView({ block: "nearest" });
    }
  });
  window.addEventListener("resize", scrollableWraps);
  // A form sent twice (a double tap, a second tap on a slow phone network) made the second request
  // fail: the first had already moved the item on, so the page answered with a conflict (409) over
  // a step that was done. A plain POST form is sent once per page; forms another script sends
  // (report.js's fetch, htmx) prevent the default first and keep their own guards. A page restored
  // from the back-forward cache may send again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    if (form.hasAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "");
    form.setAttribute("aria-busy", "true");
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.removeAttribute("aria-busy");
    });
  });
  // A button with data-print opens the browser's print dialog.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
  });
})();
