// A coordination item's dispatch form (incident page, inbox row): the department chosen as the lead
// cannot also support, so its checkbox is unticked and disabled. The server refuses it anyway
// (docs/incidents.md "Coordination items"); this spares a phone user the round trip.
(function () {
  "use strict";

  function sync(form) {
    var lead = form.querySelector("select[name=department]");
    if (!lead) return;
    form.querySelectorAll("input[name=supporting_departments]").forEach(function (box) {
      var isLead = box.value === lead.value;
      if (isLead) box.checked = false;
      box.disabled = isLead;
    });
  }

  function syncAll(root) {
    (root || document).querySelectorAll(".grids-supporting").forEach(function (set) {
      if (set.form) sync(set.form);
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[name=department]") && event.target.form) sync(event.target.form);
  });
  // The inbox swaps a row in after each step (htmx).
  document.addEventListener("htmx:afterSwap", function (event) { syncAll(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { syncAll(); });
  } else {
    syncAll();
  }
})();
