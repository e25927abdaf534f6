/*
 * Maps without inline script. An element with data-map becomes a Leaflet map:
 *   data-geojson-url  URL returning a GeoJSON FeatureCollection to draw (areas);
 *   data-areas        optional comma-separated area codes appended as ?code=...;
 *   data-tiles        optional tile URL template (a setting: MAP_TILE_URL); with none the map shows
 *                     the boundaries only, which is what an isolated intranet gets.
 * Other scripts reach the map through window.GovMap: GovMap.ready(el, function (map, layer) {...}).
 */
(function () {
  "use strict";
  var callbacks = new WeakMap();
  var created = new WeakMap();

  // Leaflet puts a tooltip given as a string into the page as HTML: an area or category name typed
  // in the admin ("<img onerror=...>") became markup on every map, with only the CSP left between
  // it and script. Tooltips get a text node instead, whatever the name holds.
  function text(s) {
    var span = document.createElement("span");
    span.textContent = s == null ? "" : String(s);
    return span;
  }

  function label(feature) { return feature.properties.name + " " + feature.properties.code; }

  // An area's shape opens its tooltip when it takes the focus (Leaflet listens for it), and Chromium
  // then puts the bare <path> in the Tab order with no role and no name: a stop a screen reader
  // announced as nothing. Every shape is a named stop, in every browser, saying what its tooltip says.
  function named(shape, words) {
    var path = shape.getElement && shape.getElement();
    if (!path) { return; }
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", "img");
    path.setAttribute("aria-label", words);
  }

  function styleFor(feature) {
    var level = feature.properties && feature.properties.level;
    return { color: level === "grid" ? "#2563eb" : "#0f766e", weight: level === "grid" ? 1.5 : 2.5, fillOpacity: 0.08 };
  }

  function create(el) {
    if (created.has(el)) { return created.get(el); }
    var map = L.map(el, { attributionControl: true, zoomControl: false, zoomSnap: 0.25 });
    // Leaflet's zoom buttons are titled (tooltip, screen reader) in English: the page gives the words.
    var body = document.body;
    L.control.zoom({
      zoomInTitle: body.getAttribute("data-zoom-in") || "Zoom in",
      zoomOutTitle: body.getAttribute("data-zoom-out") || "Zoom out"
    }).addTo(map);
    // Leaflet's default prefix is a link out of the intranet with a national flag: keep the credit, plain.
    map.attributionControl.setPrefix("Leaflet");
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map); }
    map.setView([31.82, 117.23], 11);
    map.on("tooltipopen", function (e) { keepInside(el, e.tooltip.getElement()); });
    var state = { map: map, layer: null };
    created.set(el, state);
    var url = el.getAttribute("data-geojson-url");
    if (url) {
      var codes = el.getAttribute("data-areas");
      if (codes) { url += (url.indexOf("?") >= 0 ? "&" : "?") + "code=" + encodeURIComponent(codes); }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          state.layer = L.geoJSON(data, {
            style: styleFor,
            onEachFeature: function (f, layer) { layer.bindTooltip(text(label(f))); }
          }).addTo(map);
          state.layer.eachLayer(function (shape) { named(shape, label(shape.feature)); });
          if (state.layer.getLayers().length) { fitNow(el, map, state.layer); }
          el.setAttribute("data-loaded", String(state.layer.getLayers().length));
          fire(el, state);
        })
        .catch(function () { el.setAttribute("data-loaded", "error"); fire(el, state); });
    } else {
      el.setAttribute("data-loaded", "0");
      setTimeout(function () { fire(el, state); }, 0);
    }
    return state;
  }

  // Leaflet puts a tooltip beside its point, on the side of the map's middle, however wide it is: on a
  // phone an area's name ran past the map's edge and lost its first characters. Moved back inside
  // (the CSS translate, which Leaflet's own transform and margins leave alone), wrapped when it is
  // wider than the map.
  function keepInside(el, tip) {
    if (!tip) { return; }
    tip.style.translate = "";
    var box = el.getBoundingClientRect(), room = box.width - 8;
    if (tip.getBoundingClientRect().width > room) { tip.style.whiteSpace = "normal"; tip.style.width = room + "px"; }
    var t = tip.getBoundingClientRect(), dx = 0, dy = 0;
    if (t.left < box.left + 4) { dx = box.left + 4 - t.left; } else if (t.right > box.right - 4) { dx = box.right - 4 - t.right; }
    if (t.top < box.top + 4) { dy = box.top + 4 - t.top; } else if (t.bottom > box.bottom - 4) { dy = box.bottom - 4 - t.bottom; }
    if (dx || dy) { tip.style.translate = dx + "px " + dy + "px"; }
  }

  function fire(el, state) {
    (callbacks.get(el) || []).forEach(function (cb) { cb(state.map, state.layer); });
    callbacks.set(el, []);
    state.fired = true;
  }

  // Leaflet's zoom buttons sit over the map's top-left corner (and the credit over its bottom right):
  // fitted with a few pixels of padding, the leftmost area lay under them. Every map is fitted clear
  // of both, without animation.
  function fitNow(el, map, layer) {
    var zoom = el.querySelector(".leaflet-control-zoom"), credit = el.querySelector(".leaflet-control-attribution");
    var left = zoom ? zoom.offsetLeft + zoom.offsetWidth + 8 : 8;
    var bottom = credit ? credit.offsetHeight + 8 : 8;
    map.fitBounds(layer.getBounds(), { paddingTopLeft: [left, 8], paddingBottomRight: [8, bottom], animate: false });
  }
  // The same for a layer a page adds later (the league's choropleth), once any zoom animation is
  // over: Leaflet drops a new view asked for during one, or puts the animated one back when it ends.
  // That animation starts on the next frame, so look on the frame after (_animatingZoom: Leaflet 1.x
  // has no public word for it). Then done().
  function fitClear(el, map, layer, done) {
    if (!layer.getLayers().length) { done(); return; }
    var fit = function () { fitNow(el, map, layer); done(); };
    window.requestAnimationFrame(function () {
      if (map._animatingZoom) { map.once("zoomend", fit); } else { fit(); }
    });
  }

  window.GovMap = {
    text: text,
    create: create,
    fitClear: fitClear,
    ready: function (el, cb) {
      var state = create(el);
      if (state.fired) { cb(state.map, state.layer); return; }
      var list = callbacks.get(el) || []; list.push(cb); callbacks.set(el, list);
    }
  };

  function init() { document.querySelectorAll("[data-map]").forEach(create); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
