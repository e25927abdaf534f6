/* Case page: show only the fields of the chosen outcome; print button on the agreement page. */
(function () {
  "use strict";
  function syncOutcome(select) {
    var form = select.form;
    var value = select.value;
    form.querySelectorAll(".med-outcome-fields").forEach(function (box) {
      var wanted = (box.getAttribute("data-for") || "").split(" ");
      box.classList.toggle("med-hidden", wanted.indexOf(value) === -1);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-outcome-select]").forEach(function (select) {
      syncOutcome(select);
      select.addEventListener("change", function () { syncOutcome(select); });
    });
    var button = document.querySelector("[data-print]");
    if (button) {
      button.addEventListener("click", function () { window.print(); });
    }
  });
})();
