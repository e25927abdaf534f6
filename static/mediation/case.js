/* Case page: show only the fields of the chosen outcome; print button on the agreement page. */
(function () {
  "use strict";
  function syncOutcome(select) {
    var form = select.form;
    var value = select.value;
    form.querySelectorAll(".med-outcome-fields").forEach(function (box) {
      var wanted = (box.getAttribute("data-for") || "").split(" ");
      var hidden = wanted.indexOf(value) === -1;
      box.classList.toggle("med-hidden", hidden);
      // A hidden field is not sent: an oral agreement's effect date is the day of conclusion, not
      // whatever the written agreement's field still holds.
      box.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = hidden; });
    });
    // What a written agreement must state (facts, terms, how and when) is required for it alone.
    form.querySelectorAll("[data-required-for]").forEach(function (field) {
      field.required = field.getAttribute("data-required-for").split(" ").indexOf(value) !== -1;
    });
    syncPerformanceMin(form);
  }
  // The agreement is carried out on or after the day it takes effect: the effective date chosen for a
  // written one, the day of conclusion (the effective field's max, today) for an oral one. The
  // server checks it too; this only stops the date picker offering days it would refuse.
  function syncPerformanceMin(form) {
    var due = form.querySelector("#perf-due");
    var effective = form.querySelector("#effective");
    if (!due || !effective) { return; }
    var written = form.querySelector("[data-outcome-select]").value === "success_written";
    due.min = (written && effective.value) ? effective.value : effective.max;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-outcome-select]").forEach(function (select) {
      syncOutcome(select);
      select.addEventListener("change", function () { syncOutcome(select); });
      var effective = select.form.querySelector("#effective");
      if (effective) {
        effective.addEventListener("change", function () { syncPerformanceMin(select.form); });
      }
    });
    var button = document.querySelector("[data-print]");
    if (button) {
      button.addEventListener("click", function () { window.print(); });
    }
  });
})();
