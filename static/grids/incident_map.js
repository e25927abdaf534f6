/* Markers on grid maps: data-markers (my open items) or data-marker (one incident) name a JSON block. */
(function () {
  "use strict";
  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function init() {
    if (!window.GovMap) { return; }
    document.querySelectorAll("[data-markers],[data-marker]").forEach(function (el) {
      GovMap.ready(el, function (map, layer) {
        var many = el.getAttribute("data-markers");
        var points = many ? readJson(many) || [] : [readJson(el.getAttribute("data-marker"))].filter(Boolean);
        var group = [];
        points.forEach(function (p) {
          if (p.lat === null || p.lng === null) { return; }
          var m = L.circleMarker([p.lat, p.lng], { radius: 7, color: "#b91c1c", weight: 2, fillOpacity: 0.7 }).addTo(map);
          m.bindTooltip(p.label || p.code || "");
          if (p.url) { m.on("click", function () { window.location.href = p.url; }); }
          group.push([p.lat, p.lng]);
        });
        if (!many && group.length) { map.setView(group[0], 17); }
        else if (group.length && !(layer && layer.getLayers().length)) { map.fitBounds(group, { padding: [16, 16] }); }
        el.setAttribute("data-markers-drawn", String(group.length));
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
