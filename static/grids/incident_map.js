/* Markers on grid maps: data-markers (my open items) or data-marker (one incident) name a JSON block. */
(function () {
  "use strict";
  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  // A pin is a box of the page's target size (--tap: 24 px with a mouse, 44 px on a phone or a touch
  // screen; the circle markers were 18 px) drawn by grids.css, centred on the point: no size here.
  // One with a URL holds a real link, reached with Tab and opened with Enter like any other.
  function pin(p) {
    var link = null;
    if (p.url) {
      link = document.createElement("a");
      link.href = p.url;
      link.className = "map-pin-link";
      link.setAttribute("aria-label", p.label || p.code || "");
      link.draggable = false;  // dragging from a pin pans the map instead of dragging the link
    }
    return L.divIcon({ className: "map-pin", html: link || "", iconSize: null });
  }
  function init() {
    if (!window.GovMap) { return; }
    document.querySelectorAll("[data-markers],[data-marker]").forEach(function (el) {
      GovMap.ready(el, function (map, layer) {
        var many = el.getAttribute("data-markers");
        var points = many ? readJson(many) || [] : [readJson(el.getAttribute("data-marker"))].filter(Boolean);
        var group = [], markers = [];
        var outlined = !!(layer && layer.getLayers().length);
        points.forEach(function (p) {
          if (p.lat === null || p.lng === null) { return; }
          markers.push(L.marker([p.lat, p.lng], { icon: pin(p), keyboard: false }).addTo(map).bindTooltip(GovMap.text(p.label || p.code || "")));
          group.push([p.lat, p.lng]);
        });
        var drawn = function () { el.setAttribute("data-markers-drawn", String(group.length)); };
        if (!many && group.length && outlined) {
          // One incident: the whole outline of its grid with the pin, clear of the map's buttons. A
          // fixed zoom 17 on the pin was closer than a grid, whose outline then lay outside the view.
          GovMap.fitClear(el, map, L.featureGroup([layer].concat(markers)), drawn);
          return;
        }
        if (!many && group.length) { map.setView(group[0], 17); }  // no outline to show
        else if (group.length && !outlined) { map.fitBounds(group, { padding: [16, 16] }); }
        drawn();
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
