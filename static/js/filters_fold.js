/* A list's filters fold under a summary naming those in force (governance/_filters_summary.html):
   closed on a phone, where the form ran about 400 px before the first row, and open where there is
   room (800 px and wider, where css/app.css stops drawing rows as phone cards), where a folded form
   only hid what it offers. Only the page's first state is set: a reader who then closes or opens
   the fold keeps it so, and a fold the server opened (a refused filter) stays open on a phone. Without this script the fold stays as the server drew it. */
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(min-width: 800px)").matches) { return; }
  var folds = document.querySelectorAll("details.filters-fold");
  for (var i = 0; i < folds.length; i += 1) { folds[i].open = true; }
})();
