/* Site-wide behaviour. No inline scripts anywhere (Content Security Policy): pages opt in with data-* attributes. */
(function () {
  "use strict";
  // htmx sends the CSRF token with every non-GET partial request.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.body.getAttribute("data-csrf");
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
  // Logging out forgets what pages kept in this tab for the user (sessionStorage: the report
  // form's draft, whose text may name residents), so the next person at the phone finds none of it.
  document.addEventListener("submit", function (event) {
    if (!event.target.hasAttribute("data-forget-tab")) { return; }
    try { sessionStorage.clear(); } catch (e) { /* storage disabled */ }
  });
  // The phone menu (a details' summary, base.html) closes with Escape from its toggle or any of its
  // entries, the focus back on the toggle, as a menu does; Tab from its last entry still goes on to the page.
  document.addEventListener("keydown", function (event) {
    var toggle = document.getElementById("nav-toggle");
    var menu = toggle && toggle.parentElement;
    if (event.key !== "Escape" || !menu || !menu.open) { return; }
    var at = document.activeElement;
    if (at !== toggle && !(at && at.closest && at.closest("nav.nav"))) { return; }
    menu.open = false;
    toggle.focus();
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
      // The title is what a screen reader says first of a page, and what a tab's list shows: it
      // says that what was sent came back refused, before the field read out under the focus. The
      // server writes it before a refused form's page (governance/templatetags/refused.py); this is
      // for errors shown without a refused form in the page's context, and never a second time.
      var prefix = document.body.getAttribute("data-error-title");
      if (prefix && document.title.indexOf(prefix) !== 0) { document.title = prefix + document.title; }
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
      return;
    }
    // What the last step did (the messages after a redirect: "Registered as …") is in the page when
    // it loads, where a screen reader does not read a status out: it takes the focus, so it is read
    // and the next Tab goes on from there. Not over a field the page focuses itself (autofocus,
    // which a focus given first would cancel) nor over an address's #fragment.
    var done = document.getElementById("messages");
    if (done && !document.querySelector("[autofocus]") && !window.location.hash) {
      done.focus({ preventScroll: true });
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
  // The language switch is a form of its own: it posts, and the page comes back in the other language
  // drawn anew, without what had been typed into its forms (a petition half taken down at the
  // reception desk, a case half registered). What the page's forms hold goes along in this tab's
  // sessionStorage and is put back into the same forms when the page comes back, in fields the new
  // page left as drawn; it is removed as soon as it is read, and kept from no other page.
  // Restored before the page's own scripts run (deferred, after this one), which then read it as
  // typed; "change" follows once htmx has set up (its listeners, e.g. the intake's repeat check).
  var CARRY_KEY = "language-switch-carry";
  var NOT_CARRIED = ["hidden", "password", "file", "submit", "button", "reset", "image"];
  function postForms() {
    return Array.prototype.filter.call(document.querySelectorAll("main form"), function (form) {
      return (form.getAttribute("method") || "").toLowerCase() === "post";
    });
  }
  function carriedFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && NOT_CARRIED.indexOf((el.type || "").toLowerCase()) < 0;
    });
  }
  function fieldKey(el, seen) {
    if (el.type === "checkbox" || el.type === "radio") { return el.name + "=" + el.value; }
    seen[el.name] = (seen[el.name] || 0) + 1;
    return el.name + "#" + seen[el.name];
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("lang-switch") || !form.elements.next) { return; }
    var forms = postForms().map(function (f) {
      var seen = {}, values = {};
      carriedFields(f).forEach(function (el) {
        var key = fieldKey(el, seen);
        if (el.type === "checkbox" || el.type === "radio") { values[key] = el.checked; }
        else if (el.tagName === "SELECT") {
          values[key] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; });
        } else { values[key] = el.value; }
      });
      return { action: f.getAttribute("action") || "", values: values };
    });
    try {
      sessionStorage.setItem(CARRY_KEY, JSON.stringify({ page: form.elements.next.value, forms: forms }));
    } catch (e) { /* storage off: the page comes back as drawn */ }
  });
  function untouched(el) {
    if (el.type === "checkbox" || el.type === "radio") { return el.checked === el.defaultChecked; }
    if (el.tagName === "SELECT") {
      return Array.prototype.every.call(el.options, function (o) { return o.selected === o.defaultSelected; });
    }
    return el.value === el.defaultValue;
  }
  var carriedBack = [];
  (function restoreCarried() {
    var raw = null;
    try { raw = sessionStorage.getItem(CARRY_KEY); sessionStorage.removeItem(CARRY_KEY); } catch (e) { return; }
    if (!raw) { return; }
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    if (!data || data.page !== window.location.pathname + window.location.search) { return; }
    var forms = postForms();
    (data.forms || []).forEach(function (saved, i) {
      var form = forms[i];
      if (!form || (form.getAttribute("action") || "") !== saved.action) { return; }
      var seen = {};
      carriedFields(form).forEach(function (el) {
        var key = fieldKey(el, seen);
        if (!Object.prototype.hasOwnProperty.call(saved.values, key) || !untouched(el)) { return; }
        var value = saved.values[key], before;
        if (el.type === "checkbox" || el.type === "radio") {
          before = el.checked;
          el.checked = !!value;
          if (el.checked !== before) { carriedBack.push(el); }
        } else if (el.tagName === "SELECT") {
          before = Array.prototype.map.call(el.options, function (o) { return o.selected; }).join();
          Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) >= 0; });
          if (el.multiple === false && el.selectedIndex < 0 && el.options.length) { el.selectedIndex = 0; }
          if (Array.prototype.map.call(el.options, function (o) { return o.selected; }).join() !== before) {
            carriedBack.push(el);
          }
        } else if (el.value !== value) {
          el.value = value;
          carriedBack.push(el);
        }
      });
    });
  })();
  document.addEventListener("DOMContentLoaded", function () {
    carriedBack.forEach(function (el) { el.dispatchEvent(new Event("change", { bubbles: true })); });
  });
  // A block with data-shown-by="<select id>" data-shown-for="<values>" shows only while the select has one
  // of those values; hidden, its inputs are disabled so nothing stale is sent.
  function syncShown() {
    document.querySelectorAll("[data-shown-by]").forEach(function (block) {
      var select = document.getElementById(block.getAttribute("data-shown-by"));
      if (!select) { return; }
      var shown = block.getAttribute("data-shown-for").split(" ").indexOf(select.value) !== -1;
      block.hidden = !shown;
      block.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !shown; });
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.id && document.querySelector('[data-shown-by="' + event.target.id + '"]')) { syncShown(); }
  });
  syncShown();

  // A button with data-print opens the browser's print dialog.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
  });
})();
