/* Submit the indicator/period picker as soon as a choice changes (the button stays for no-JS use). */
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.querySelectorAll("select").forEach(function (select) {
        select.addEventListener("change", function () {
          // A new period type: let the server pick the latest period of that type.
          if (select.name === "period_type") {
            var period = form.querySelector("select[name=period]");
            if (period) { period.disabled = true; }
          }
          form.submit();
        });
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
