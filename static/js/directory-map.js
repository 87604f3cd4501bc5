/* The neighborhood directory's maps: every neighborhood listed, shaded by open issues
   (/neighborhoods/), or one neighborhood's boundary and its open issues (/neighborhoods/<slug>/).
   Data comes from json_script elements (map-settings, and map-shapes or map-data); no script
   is written into the page, so the Content-Security-Policy needs no 'unsafe-inline'.
   Tiles only when MAP_TILE_URL is set; without them the shapes are drawn on a plain background.
   Popups are built as DOM nodes (textContent), never from HTML strings. */
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function popup(title, url, detail) {
    var box = document.createElement("div");
    var a = document.createElement("a");
    a.href = url; a.textContent = title;
    box.appendChild(a);
    if (detail) { var p = document.createElement("div"); p.textContent = detail; box.appendChild(p); }
    return box;
  }

  function directoryMap(elementId, options) {
    var el = document.getElementById(elementId);
    var settings = data("map-settings");
    if (!el || !window.L || !settings) return null;
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!settings.tiles });
    if (settings.tiles) L.tileLayer(settings.tiles, { attribution: settings.attribution, maxZoom: 19 }).addTo(map);
    // Layers are added once the map has a view: Leaflet cannot project markers before it has one.
    var bounds = L.latLngBounds([]);
    var layers = [];
    (options.shapes || []).forEach(function (shape) {
      if (!shape.boundary || !shape.boundary.type) return;
      var layer = L.geoJSON(shape.boundary, { style: shape.style || { color: "#1f5fa8", weight: 2, fillOpacity: 0.15 } });
      if (shape.url) layer.bindPopup(popup(shape.name, shape.url, shape.detail));
      layers.push(layer);
      bounds.extend(layer.getBounds());
    });
    (options.points || []).forEach(function (p) {
      var point = L.latLng(p.lat, p.lng);
      layers.push(L.circleMarker(point, { radius: 7, color: p.overdue ? "#b3261e" : "#1f5fa8", fillOpacity: 0.8, weight: 2 })
        .bindPopup(popup(p.code, p.url, p.category)));
      bounds.extend(point);
    });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
    else map.setView(settings.center, 12);
    layers.forEach(function (layer) { layer.addTo(map); });
    el.setAttribute("data-map-ready", "1");
    return map;
  }

  // The list: each neighborhood shaded by its share of the busiest one's open issues.
  var shapes = data("map-shapes");
  if (shapes) {
    var top = Math.max.apply(null, shapes.map(function (s) { return s.open; }).concat([1]));
    shapes.forEach(function (s) {
      s.style = { color: "#174a83", weight: 1.5, fillColor: "#b3261e", fillOpacity: 0.08 + 0.6 * (s.open / top) };
    });
    directoryMap("neighborhood-map", { shapes: shapes });
  }

  // One neighborhood: its boundary and its open issues.
  var detail = data("map-data");
  if (detail) directoryMap("neighborhood-map", { shapes: [{ boundary: detail.boundary }], points: detail.points });
})();
