/* Submit the indicator/period picker as soon as a choice is made (the button stays for no-JS use).
 *
 * Made with the mouse or a finger, a choice is one change event. From the keyboard, every arrow key
 * on a closed list changes the value: submitting on each change reloaded the page at the first
 * arrow, with the focus back at the top of the page, so the fifth indicator took four reloads and
 * dozens of tabs (WCAG 3.2.2, On Input). From the keyboard the arrows only move the choice; Enter
 * (or the Show button) submits, and after the reload the focus is back on the list it came from. */
(function () {
  "use strict";
  var FOCUS_KEY = "dash-picker-focus";

  function submit(form, select) {
    // A new period type: let the server pick the latest period of that type.
    if (select.name === "period_type") {
      var period = form.querySelector("select[name=period]");
      if (period) { period.disabled = true; }
    }
    try { window.sessionStorage.setItem(FOCUS_KEY, select.id); } catch (e) { /* storage off: no focus back */ }
    form.submit();
  }

  function init() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.querySelectorAll("select").forEach(function (select) {
        // keyed: the last change came from a key on the list (an arrow, Home, End, a letter).
        var keyed = false, chosen = select.value;
        select.addEventListener("pointerdown", function () { keyed = false; });
        select.addEventListener("keydown", function (event) {
          if (event.key === "Enter") {
            if (select.value !== chosen) { event.preventDefault(); submit(form, select); }
          } else if (event.key !== "Tab" && event.key !== "Shift") {
            keyed = true;
          }
        });
        select.addEventListener("change", function () {
          if (!keyed) { submit(form, select); }
        });
      });
    });
    var back = null;
    try { back = window.sessionStorage.getItem(FOCUS_KEY); window.sessionStorage.removeItem(FOCUS_KEY); } catch (e) { back = null; }
    var target = back && document.getElementById(back);
    if (target) { target.focus(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
