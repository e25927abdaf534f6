/*
 * Photos checked as they are chosen, on every page that takes them (the report, a step's feedback):
 * too many, too large, or not a picture the server takes (a HEIC from the gallery) is said at once,
 * rather than learnt after up to 60 MB went up over mobile data and came back refused. The server
 * checks again (the content, not the type the phone gives); a type the phone does not give passes.
 *
 * data-max-count and data-max-bytes on the input are the server's limits (grids/photos.py); the texts
 * come from <template id="photo-messages"> (grids/_photo_messages.html). An input with data-photo-check
 * is checked here: its problems go into the list whose id is its data-photo-errors, and its form is not
 * sent while one of its photos is refused. The report page's script, which sends its form with fetch
 * and says the server's errors in the same list, asks GridsPhotoCheck.problems and shows them itself.
 */
(function () {
  "use strict";
  var TYPES = ["image/jpeg", "image/png", "image/webp"];

  function problems(input) {
    var template = document.getElementById("photo-messages");
    var msgs = template ? template.dataset : {};
    var files = input.files || [], found = [];
    var maxCount = Number(input.getAttribute("data-max-count"));
    var maxBytes = Number(input.getAttribute("data-max-bytes"));
    if (maxCount && files.length > maxCount) { found.push(msgs.photosTooMany.replace("{count}", files.length)); }
    for (var i = 0; i < files.length; i++) {
      if (maxBytes && files[i].size > maxBytes) { found.push(msgs.photoTooLarge.replace("{name}", files[i].name)); }
      else if (files[i].type && TYPES.indexOf(files[i].type) === -1) {
        found.push(msgs.photoNotImage.replace("{name}", files[i].name));
      }
    }
    return found;
  }

  // The input is described by its list while it has problems; what the server rendered (a refused
  // step's error, "act-error") stays, and its aria-invalid too: only what this check set is taken back.
  function show(input) {
    var list = document.getElementById(input.getAttribute("data-photo-errors"));
    var found = problems(input);
    list.textContent = "";
    found.forEach(function (text) {
      var li = document.createElement("li"); li.textContent = text; list.appendChild(li);
    });
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== list.id;
    });
    if (found.length) {
      ids.push(list.id);
      if (!input.hasAttribute("aria-invalid")) { input.setAttribute("data-photo-invalid", ""); }
      input.setAttribute("aria-invalid", "true");
    } else if (input.hasAttribute("data-photo-invalid")) {
      input.removeAttribute("data-photo-invalid");
      input.removeAttribute("aria-invalid");
    }
    if (ids.length) { input.setAttribute("aria-describedby", ids.join(" ")); }
    else { input.removeAttribute("aria-describedby"); }
    return found.length === 0;
  }

  function bind(input) {
    input.addEventListener("change", function () { show(input); });
    if (!input.form) { return; }
    input.form.addEventListener("submit", function (event) {
      if (show(input)) { return; }
      event.preventDefault();
      // A phone's long form: bring the refused photos into view, and their problems read with them.
      input.scrollIntoView({ block: "center" });
      input.focus({ preventScroll: true });
    });
  }

  window.GridsPhotoCheck = { problems: problems };
  document.querySelectorAll("input[type=file][data-photo-check]").forEach(bind);
})();
