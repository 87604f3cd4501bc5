/* Issue detail map: the issue's point and its neighborhood's outline (Leaflet, vendored).
   Without MAP_TILE_URL there is no base layer: the outline and the marker still show where it is. */
(function () {
  "use strict";

  function drawIssueMap() {
    var el = document.getElementById("issue-map");
    if (!el || el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!el.dataset.tileUrl });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    var bounds = null;
    var boundaryNode = document.getElementById("issue-boundary");
    var boundary = boundaryNode ? JSON.parse(boundaryNode.textContent) : null;
    if (boundary && boundary.type) {
      var outline = L.geoJSON(boundary, { style: { color: "#1f5fa8", weight: 2, fillOpacity: 0.08 } }).addTo(map);
      bounds = outline.getBounds();
    }
    if (el.dataset.lat && el.dataset.lng) {
      var point = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)];
      L.circleMarker(point, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.6 })
        .addTo(map)
        .bindTooltip(el.getAttribute("aria-label") || "");
      if (bounds && bounds.isValid()) {
        bounds.extend(point);
      } else {
        map.setView(point, 16);
      }
    }
    if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawIssueMap);
  } else {
    drawIssueMap();
  }
})();
