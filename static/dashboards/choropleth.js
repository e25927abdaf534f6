/*
 * The league table's children as a choropleth on the Leaflet map of static/js/map.js: values come from
 * data-values-url (the same selection as the table), five quantile classes with a legend, areas
 * without a value grey; clicking an area drills down one level (the league table of its children),
 * except a grid, which has none.
 * The label (name, value, rank) shows on a mouse hover, and where there is no hover too: a tap shows
 * it and a second tap on the same area drills down (a first tap drilled straight away, so a phone never
 * saw a label), and each area takes the keyboard focus (Tab), which shows it; Enter drills down.
 * Works without tiles: only the boundaries are drawn.
 */
(function () {
  "use strict";
  var COLOURS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
  // One value for every area says nothing of better or worse: the middle colour, whatever the direction.
  var SINGLE_CLASS = 2;

  function classOf(value, breaks, lowerBetter) {
    if (value === null || value === undefined) { return -1; }
    var c = 0;
    while (c < breaks.length && value > breaks[c]) { c++; }
    // darker = better: invert for lower-is-better indicators
    return lowerBetter ? breaks.length - c : c;
  }

  // Every area with a value has the same one: a single class. Quantile breaks of one value gave two
  // classes, "<= 100%" and "> 100%", the second empty. Returns that area's row (its text is the
  // value as the table writes it), or null.
  function singleValue(data) {
    var seen = null, count = 0;
    Object.keys(data.areas).forEach(function (code) {
      var row = data.areas[code], v = row.value;
      if (v === null || v === undefined) { return; }
      if (count === 0 || v !== seen.value) { count++; seen = row; }
    });
    return count === 1 ? seen : null;
  }

  function legend(el, data) {
    var box = document.getElementById("dash-legend");
    if (!box) { return; }
    box.textContent = "";
    var single = singleValue(data);
    if (single !== null) {
      var one = document.createElement("span"), mark = document.createElement("i");
      mark.className = "c" + SINGLE_CLASS;
      one.setAttribute("data-single", "1");
      one.appendChild(mark);
      one.appendChild(document.createTextNode(single.text));  // once, "100.00%" as in the table
      box.appendChild(one);
    }
    // No values: no classes to explain (a lone "≤" with no number was shown), only "no value".
    // Each break as the table writes the values ("92.86%", "90.00%"): the server formats them.
    var b = data.break_texts;
    var n = b.length ? b.length + 1 : 0;
    for (var i = 0; single === null && i < n; i++) {
      var lo = i === 0 ? "" : b[i - 1], hi = i < b.length ? b[i] : "";
      var item = document.createElement("span");
      var swatch = document.createElement("i");
      var cls = data.lower_better ? n - 1 - i : i;
      swatch.className = "c" + (n === 5 ? cls : Math.round(cls * 4 / Math.max(n - 1, 1)));
      item.appendChild(swatch);
      item.appendChild(document.createTextNode((lo === "" ? "≤ " + hi : hi === "" ? "> " + lo : lo + " – " + hi)));
      box.appendChild(item);
    }
    var none = document.createElement("span");
    var sw = document.createElement("i"); sw.className = "cnone";
    // The grey swatch says in words what it stands for (the template gives them: data-no-value).
    none.setAttribute("data-no-value", "1");
    none.appendChild(sw); none.appendChild(document.createTextNode(el.getAttribute("data-no-value") || "—"));
    box.appendChild(none);
  }

  // "rank 2 of 5" in the page's language: the template gives the words (data-rank-text) with
  // %(rank)s and %(of)s where the numbers go.
  function rankText(el, row) {
    if (!row.rank) { return ""; }
    var words = el.getAttribute("data-rank-text") || "%(rank)s/%(of)s";
    return " " + words.replace("%(rank)s", row.rank).replace("%(of)s", row.rank_of || "");
  }

  function setArea(shape, props) {
    if (shape.getElement && shape.getElement()) { shape.getElement().setAttribute("data-area", props.code); }
  }

  // The shape's label for a reader without a mouse: focusable (Leaflet opens a bound tooltip on the
  // focus of its element), named with the tooltip's words, a link when it drills down.
  function focusable(shape, label, drills) {
    var path = shape.getElement && shape.getElement();
    if (!path) { return; }
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", drills ? "link" : "img");
    path.setAttribute("aria-label", label);
  }

  // How the last press on the map was made: a touch has no hover, so its first tap shows the label.
  // Chromium's click is a PointerEvent that says so itself; the pointerdown is for browsers whose
  // click is not.
  function touchPress(el) {
    var last = "mouse";
    el.addEventListener("pointerdown", function (e) { last = e.pointerType || "mouse"; }, true);
    return function (e) {
      var type = e && e.pointerType ? e.pointerType : last;
      return type === "touch" || type === "pen";
    };
  }

  function paint(el, map, layer, data) {
    var n = data.breaks.length + 1, single = singleValue(data) !== null;
    var isTouch = touchPress(el), tapped = null;
    function drill(props) {
      var params = new URLSearchParams(window.location.search);
      params.set("parent", props.code);
      params.set("indicator", data.indicator);
      params.set("period", data.period);  // the period the server resolved, whatever was asked
      params.delete("period_type"); params.delete("sort"); params.delete("dir");
      window.location.href = data.drill_url + "?" + params.toString();
    }
    layer.eachLayer(function (shape) {
      var props = shape.feature.properties, row = data.areas[props.code];
      var c = classOf(row ? row.value : null, data.breaks, data.lower_better);
      var colour = c < 0 ? "#e5e7eb" : COLOURS[single ? SINGLE_CLASS : n === 5 ? c : Math.round(c * 4 / Math.max(n - 1, 1))];
      var label = props.name + (row ? " " + row.text + rankText(el, row) : "");
      // A grid has no smaller areas: drilling into it led to an empty league table.
      var drills = props.level !== "grid";
      // Three quarters opaque, so that a tile layer shows through; the legend's swatches are veiled alike (dashboards.css).
      shape.setStyle({ color: "#475569", weight: 1.5, fillColor: colour, fillOpacity: 0.75 });
      shape.bindTooltip(GovMap.text(label));
      setArea(shape, props);
      focusable(shape, label, drills);
      if (!drills) {
        if (shape.getElement && shape.getElement()) { shape.getElement().classList.add("no-drill"); }
        return;
      }
      shape.on("click", function (e) {
        // A mouse has shown the label on its way in; a first tap shows it (Leaflet opens the tooltip
        // on the click) and the next tap on the same area drills down.
        if (isTouch(e.originalEvent) && tapped !== shape) { tapped = shape; return; }
        drill(props);
      });
      var path = shape.getElement && shape.getElement();
      if (path) {
        path.addEventListener("keydown", function (e) {
          if (e.key === "Enter") { e.preventDefault(); drill(props); }
        });
      }
    });
    legend(el, data);
    GovMap.fitClear(el, map, layer, function () { el.setAttribute("data-painted", "1"); });
  }

  function init() {
    var el = document.getElementById("dash-map");
    if (!el || !window.GovMap) { return; }
    var values = fetch(el.getAttribute("data-values-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
    window.GovMap.ready(el, function (map, layer) {
      if (!layer) { el.setAttribute("data-painted", "0"); return; }
      values.then(function (data) { paint(el, map, layer, data); })
        .catch(function () { el.setAttribute("data-painted", "error"); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
