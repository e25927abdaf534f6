/*
 * The report form on a phone:
 * - location from the browser (geolocation), a draggable pin (tap the map or use the arrow keys to move
 *   it), and manual latitude/longitude inputs as the fallback, all kept in sync;
 * - the form is sent with fetch so that a failed submit (no network, server error) keeps everything
 *   on the page and says what went wrong in words; typed text is also kept as a draft in this tab
 *   (sessionStorage: it dies with the tab, and goes on logout, as the text may name residents), filled
 *   back into the empty form when the page is opened again (after signing in again), with a note and a
 *   button to discard it; the draft of a report that was saved is cleared (also on its confirmation);
 * - "resolved on the spot" shows the resolution field.
 */
(function () {
  "use strict";
  // Drafts were kept in localStorage, which outlives the tab: one left there goes.
  function forgetOld(key) { try { localStorage.removeItem(key); } catch (e) { /* storage disabled */ } }
  // The confirmation of a saved report clears the tab's draft of that very report (sent without
  // fetch, the draft was never cleared), not a newer one typed since in another report form.
  var saved = document.querySelector("[data-draft-saved]");
  if (saved) {
    var savedKey = saved.getAttribute("data-draft-saved");
    forgetOld(savedKey);
    try {
      var kept = JSON.parse(sessionStorage.getItem(savedKey) || "null");
      var submission = saved.getAttribute("data-draft-submission");
      if (kept && submission && kept.submission === submission) { sessionStorage.removeItem(savedKey); }
    } catch (e) { /* storage disabled */ }
  }
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var msgs = document.getElementById("report-messages").dataset;
  var statusBox = document.getElementById("report-status");
  var geoStatus = document.getElementById("geo-status");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  var kind = document.getElementById("id_kind");
  var resolution = document.getElementById("resolution-block");
  var submit = document.getElementById("report-submit");
  var mapEl = document.getElementById("report-map");
  var draftKey = form.getAttribute("data-draft-key");
  var photos = document.getElementById("id_photos");
  var draftNote = document.getElementById("draft-note");
  // "submission" is the form's key (hidden): the draft keeps it, so a report sent again after a lost
  // answer, even from the page opened anew, is the same report and the server does not save it twice.
  var DRAFT_FIELDS = ["category", "description", "lat", "lng", "address", "kind", "resolution", "occurred_at", "grid", "submission"];
  var marker = null;
  var theMap = null;

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.classList.toggle("grids-alert-error", !!isError);
  }

  function toggleResolution() {
    resolution.classList.toggle("grids-hidden", kind.value !== "on_the_spot");
  }

  // --- draft ---------------------------------------------------------------------------------------
  function saveDraft() {
    var data = {};
    DRAFT_FIELDS.forEach(function (name) { var el = form.elements[name]; if (el) { data[name] = el.value; } });
    data.photos = photos.files ? photos.files.length : 0;  // they cannot be kept: the note says so
    try { sessionStorage.setItem(draftKey, JSON.stringify(data)); } catch (e) { /* storage full or disabled */ }
  }
  // The page's own key of a new report, put back when the draft is discarded: typed anew under the
  // discarded report's key, a report whose first sending did reach the server was taken for a resend.
  var pageSubmission = form.elements.submission ? form.elements.submission.value : "";
  function restoreDraft() {
    forgetOld(draftKey);
    var data = null;
    try { data = JSON.parse(sessionStorage.getItem(draftKey) || "null"); } catch (e) { return; }
    if (!data) { return; }
    var restored = false;
    DRAFT_FIELDS.forEach(function (name) {
      var el = form.elements[name];
      if (name === "submission") { if (el && data[name]) { el.value = data[name]; } return; }
      if (el && untouched(el) && data[name] && data[name] !== el.value) { el.value = data[name]; restored = true; }
    });
    if (restored || data.photos) {
      document.getElementById("draft-photos").hidden = !data.photos;
      draftNote.hidden = false;
    }
  }
  // Discarded: the form as the page drew it, a new report's key, no pin, no draft.
  function discardDraft() {
    clearDraft();
    form.reset();
    if (form.elements.submission) { form.elements.submission.value = pageSubmission; }
    draftNote.hidden = true;
    say("", false);
    toggleResolution();
    placeMarker(false);
    checkPoint(false);
    form.elements.category.focus();
  }
  // A field still as the page drew it. A select always has a value: "kind" starts at "handled within a promised time",
  // so a draft of an item resolved on the spot came back as a promised one, its resolution hidden.
  function untouched(el) {
    if (el.tagName !== "SELECT") { return !el.value; }
    var first = null;
    for (var i = 0; i < el.options.length; i++) {
      if (el.options[i].defaultSelected) { return el.value === el.options[i].value; }
      if (first === null) { first = el.options[i].value; }
    }
    return el.value === first;
  }
  function clearDraft() { try { sessionStorage.removeItem(draftKey); } catch (e) { /* ignore */ } }

  // --- map and pin ---------------------------------------------------------------------------------
  function setPoint(la, ln, pan, located) {
    lat.value = Number(la).toFixed(6);
    lng.value = Number(ln).toFixed(6);
    placeMarker(pan);
    saveDraft();
    checkPoint(!!located);
  }
  // Which grid the pin is in, asked of the server (areas/locate/) whenever the point changes, so a
  // place outside every grid of the worker's area is said at once, not only when the report is sent.
  // Offline nothing is said: the server checks the point when the report goes.
  var locateUrl = form.getAttribute("data-locate-url");
  var checking = 0;
  // A typed point the earth does not have (a longitude of 1169.12, a digit too many) is said at once
  // and never drawn: the pin stays where it was, and a message about the last good point does not
  // stay on screen as if it were about this one.
  function inRange() {
    var la = parseFloat(lat.value), ln = parseFloat(lng.value);
    return !isNaN(la) && !isNaN(ln) && Math.abs(la) <= 90 && Math.abs(ln) <= 180;
  }
  function sayPlace(text, isError) {
    geoStatus.textContent = text || "";
    geoStatus.classList.toggle("grids-alert-error", !!isError);
  }
  function checkPoint(located) {
    var asked = ++checking;  // an answer still on its way is about an older point
    if (lat.value === "" || lng.value === "") { sayPlace("", false); return; }
    if (!inRange()) { sayPlace(msgs.outOfRange, true); return; }
    if (!locateUrl) { return; }
    var url = locateUrl + "?lat=" + encodeURIComponent(lat.value) + "&lng=" + encodeURIComponent(lng.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (asked !== checking) { return null; }  // the pin has moved since
      if (response.status === 404) { sayPlace(msgs.outside, true); return null; }
      if (!response.ok) { sayPlace("", false); return null; }  // not known now: the server checks on sending
      return response.json().then(function (data) {
        if (asked !== checking) { return; }
        var inGrid = msgs.inGrid.replace("{grid}", data.grid.name);
        sayPlace(located ? msgs.located + " " + inGrid : inGrid, false);
      });
    }).catch(function () { /* offline: said when sending */ });
  }
  function placeMarker(pan) {
    if (!theMap) { return; }
    if (lat.value === "" || lng.value === "") {
      // Coordinates cleared (to name the grid instead): a pin left on the map would say a place is set.
      if (marker) { theMap.removeLayer(marker); marker = null; mapEl.removeAttribute("data-pin"); }
      return;
    }
    if (!inRange()) { return; }
    var ll = [parseFloat(lat.value), parseFloat(lng.value)];
    if (!marker) {
      // Leaflet's default pin image is 25x41, narrower than a thumb: the pin is the --tap box of the
      // incident maps (grids.css .map-pin), centred on the point, which it still drags and Tab reaches.
      var icon = L.divIcon({ className: "map-pin", html: "", iconSize: null });
      marker = L.marker(ll, { icon: icon, draggable: true, autoPan: true, keyboard: true, title: msgs.pin }).addTo(theMap);
      marker.on("dragend", function () { var p = marker.getLatLng(); setPoint(p.lat, p.lng, false); });
      marker.getElement().addEventListener("keydown", nudge);
      mapEl.setAttribute("data-pin", "1");
    } else {
      marker.setLatLng(ll);
    }
    if (pan) { theMap.setView(ll, Math.max(theMap.getZoom(), 16)); }
  }
  // Without a pointer the pin moves with the arrow keys while it has the focus (WCAG 2.5.7: dragging
  // has a single-pointer alternative, tapping the map, and keys too): a step of 10 screen pixels at the
  // map's zoom, 50 with Shift, so a step means the same on the screen at every zoom. The keys are
  // taken from the page (which would scroll) and from Leaflet (which pans while the map has focus).
  var NUDGE = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
  function nudge(event) {
    var d = NUDGE[event.key];
    if (!d || !theMap || !marker || event.altKey || event.ctrlKey || event.metaKey) { return; }
    event.preventDefault();
    event.stopPropagation();
    var step = event.shiftKey ? 50 : 10;
    var at = theMap.latLngToContainerPoint(marker.getLatLng()).add(L.point(d[0] * step, d[1] * step));
    var p = theMap.containerPointToLatLng(at);
    setPoint(p.lat, p.lng, false);
    theMap.panInside(marker.getLatLng());
  }
  if (window.GovMap && mapEl) {
    GovMap.ready(mapEl, function (map) {
      theMap = map;
      // A map panned round the world gives longitudes past 180 for the same place: wrap() brings
      // them back, or a tap on Hefei one world to the east would be refused as out of range.
      map.on("click", function (e) { var p = e.latlng.wrap(); setPoint(p.lat, p.lng, false); });
      placeMarker(true);
    });
  }
  [lat, lng].forEach(function (el) { el.addEventListener("change", function () { placeMarker(true); checkPoint(false); }); });

  // A fix at most 5 s old: a worker who walks to the spot and taps again must get where they are
  // now, not the fix of a minute ago (maximumAge 60 s gave the old position back).
  // Drawn hidden: without this script the button did nothing.
  var useLocation = document.getElementById("use-location");
  useLocation.hidden = false;
  geoStatus.hidden = false;
  // A page drawn before this hint existed (kept by the browser across an upgrade) has none.
  var typedHint = document.getElementById("location-typed");
  if (typedHint) { typedHint.hidden = true; }
  useLocation.addEventListener("click", function () {
    if (!navigator.geolocation) { sayPlace(msgs.geoFailed, false); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      sayPlace(msgs.located, false);  // until the server says which grid (checkPoint)
      setPoint(pos.coords.latitude, pos.coords.longitude, true, true);
    }, function (error) {
      // Refused (code 1) is the worker's own setting, which they can change; no fix or a timeout is not.
      sayPlace(error && error.code === 1 ? msgs.geoDenied : msgs.geoFailed, false);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 5000 });
  });

  // --- submit --------------------------------------------------------------------------------------
  // A field in error is aria-invalid and described by its list (id_<field>_error) after what
  // describes it anyway (the description's privacy warning, id_description_helptext), as the page
  // rendered by the server marks it (Django, grids/forms.py). Each field's own description is kept
  // in data-describedby, read once from the page without the error lists (a page rendered with
  // errors names them too): a refusal adds its lists to it, the next answer puts it back.
  var errorListIds = {};
  form.querySelectorAll("[data-errors-for]").forEach(function (ul) { errorListIds[ul.id] = true; });
  function ownDescription(el) {
    if (!el.hasAttribute("data-describedby")) {
      var own = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
        return id && !errorListIds[id];
      });
      el.setAttribute("data-describedby", own.join(" "));
    }
    return el.getAttribute("data-describedby");
  }
  function describe(el, listIds) {
    var ids = (ownDescription(el) ? [ownDescription(el)] : []).concat(listIds);
    if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); }
    else { el.removeAttribute("aria-describedby"); }
  }
  form.querySelectorAll("[aria-describedby]").forEach(ownDescription);
  function markInvalid(field, listIds) {
    var el = field === "photos" ? document.getElementById("id_photos") : form.elements[field];
    if (!el || !el.setAttribute) { return; }  // not a field of the page: its errors head the form
    el.setAttribute("aria-invalid", "true");
    describe(el, listIds);
  }
  function showErrors(errors) {
    form.querySelectorAll("[data-errors-for]").forEach(function (ul) { ul.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      describe(el, []);  // its own description stays; the error lists go
    });
    Object.keys(errors || {}).forEach(function (field) {
      var own = form.querySelector('[data-errors-for="' + field + '"]');
      var ul = own || form.querySelector('[data-errors-for="category"]');
      (errors[field] || []).forEach(function (text) {
        // A point outside every grid is an error of both lat and lng: say it once, as the page does.
        if (field === "lng" && (errors.lat || []).indexOf(text) !== -1) { return; }
        var li = document.createElement("li"); li.textContent = text; ul.appendChild(li);
      });
      if (own && (errors[field] || []).length) {
        markInvalid(field, field === "lng" && errors.lat ? ["id_lat_error", own.id] : [own.id]);
      }
    });
  }
  // The submit button is at the bottom of a long form: on a phone neither the status line at the top
  // nor a field's error is on screen after a refused submit, so it looked as if nothing happened.
  // Move to the first field in error (focus scrolls it into view), or else to the status line.
  function revealProblem() {
    var lists = form.querySelectorAll("[data-errors-for]");
    for (var i = 0; i < lists.length; i++) {
      if (!lists[i].children.length) { continue; }
      var name = lists[i].getAttribute("data-errors-for");
      var field = name === "photos" ? document.getElementById("id_photos") : form.elements[name];
      if (field && field.focus) {
        field.setAttribute("aria-invalid", "true");
        field.scrollIntoView({ block: "center" });
        field.focus({ preventScroll: true });
        return;
      }
    }
    statusBox.scrollIntoView({ block: "center" });
  }
  // --- photos, checked as they are chosen (grids/photo_check.js) -----------------------------------
  // Said in the list the server's photo errors go into, and the report is not sent meanwhile.
  function checkPhotos() {
    var problems = window.GridsPhotoCheck.problems(photos);
    var list = document.getElementById("id_photos_error");
    list.textContent = "";
    problems.forEach(function (text) {
      var li = document.createElement("li"); li.textContent = text; list.appendChild(li);
    });
    if (problems.length) { markInvalid("photos", [list.id]); }
    else { photos.removeAttribute("aria-invalid"); describe(photos, []); }
    return problems.length === 0;
  }
  photos.addEventListener("change", checkPhotos);
  document.getElementById("draft-discard").addEventListener("click", discardDraft);

  form.addEventListener("input", saveDraft);
  kind.addEventListener("change", toggleResolution);
  form.addEventListener("submit", function (event) {
    if (!checkPhotos()) {
      event.preventDefault();
      say(msgs.photosRefused, true);
      revealProblem();
      return;
    }
    if (!window.fetch || !window.FormData) { return; } // old browser: plain POST, the server re-renders on error
    event.preventDefault();
    submit.disabled = true;
    say(msgs.sending, false);
    fetch(form.action || window.location.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": document.body.getAttribute("data-csrf") }
    }).then(function (r) {
      // A session that ended while the form was open (phones keep pages for hours): the POST is
      // redirected to the login page, or refused by the CSRF check (403). Trying again never helps.
      var signedOut = r.status === 403 || (r.redirected && r.url.indexOf(msgs.loginUrl.split("?")[0]) !== -1);
      return r.json().catch(function () { return null; }).then(function (body) {
        return { status: r.status, body: body, signedOut: signedOut };
      });
    }).then(function (res) {
      submit.disabled = false;
      if (res.status === 201 && res.body && res.body.redirect) {
        clearDraft();
        sent = true;
        window.location.href = res.body.redirect;
      } else if (res.signedOut) {
        saveDraft();
        say(msgs.signedOut, true);
        var login = document.createElement("a");
        login.href = msgs.loginUrl;
        login.className = "button";
        login.id = "report-login";
        login.textContent = msgs.loginLabel;
        statusBox.appendChild(document.createTextNode(" "));
        statusBox.appendChild(login);
        statusBox.scrollIntoView({ block: "center" });
      } else if (res.status === 400 && res.body) {
        showErrors(res.body.errors);
        say(res.body.detail || msgs.invalid, true);
        revealProblem();
      } else if (res.status === 413) {
        // Over the request size limit (many phone photos): "try again in a moment" never helps.
        say(msgs.tooLarge + (res.body && res.body.detail ? " (" + res.body.detail + ")" : ""), true);
        revealProblem();
      } else {
        say(msgs.server + " (HTTP " + res.status + ")", true);
        revealProblem();
      }
    }).catch(function () {
      submit.disabled = false;
      say(msgs.network, true);
      revealProblem();
    });
  });

  // A page kept whole by the browser (back-forward cache) after its report was saved would show that
  // report again under its own key: drawn anew it is an empty form with a new key.
  var sent = false;
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && sent) { window.location.reload(); }
  });

  restoreDraft();
  toggleResolution();
})();
