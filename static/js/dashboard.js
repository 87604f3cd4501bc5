/* Supervisor dashboard: Chart.js charts and the Leaflet map, from JSON the page embeds.
   No data is fetched: everything drawn comes from the same aggregate queries as the figures.
   Popups are built as DOM nodes (textContent), never from HTML strings. */
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var BRAND = "#1f5fa8", OK = "#1e7b45", WARN = "#b15c00", BAD = "#b3261e";
  var PALETTE = ["#1f5fa8", "#1e7b45", "#b15c00", "#7b3fa0", "#0f7c8c", "#b3261e", "#5b6776", "#c2185b", "#8d6e63"];

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return null;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    var made = new window.Chart(canvas, config);
    canvas.setAttribute("data-chart-ready", "1");
    return made;
  }

  function emptyNote(id, values) {
    var total = (values || []).reduce(function (a, b) { return a + (b || 0); }, 0);
    if (total) return;
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var note = document.createElement("p");
    note.className = "muted chart-empty";
    note.textContent = canvas.getAttribute("aria-label") + ": —";
    canvas.parentNode.parentNode.appendChild(note);
  }

  function drawCharts() {
    var c = data("dashboard-charts");
    if (!c) return;
    var weeks = c.week_labels; /* "Dec 7" or "7 dic": the language's MONTH_DAY_FORMAT, written by the server */
    chart("chart-new-resolved", {
      type: "bar",
      data: {
        labels: weeks,
        datasets: [
          { label: c.labels.new, data: c.new, backgroundColor: BRAND },
          { label: c.labels.finished, data: c.finished, backgroundColor: OK }
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    chart("chart-sla", {
      type: "line",
      data: {
        labels: weeks,
        datasets: [{ label: c.labels.sla, data: c.sla, borderColor: WARN, backgroundColor: WARN, spanGaps: true, tension: 0.2 }]
      },
      options: { scales: { y: { min: 0, max: 100 } } }
    });
    chart("chart-open-category", {
      type: "bar",
      data: {
        labels: c.open_by_category.labels,
        datasets: [{ label: c.labels.open, data: c.open_by_category.values, backgroundColor: BAD }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    emptyNote("chart-open-category", c.open_by_category.values);
    chart("chart-hours-kind", {
      type: "doughnut",
      data: {
        labels: c.hours_by_kind.labels,
        datasets: [{ label: c.labels.hours, data: c.hours_by_kind.values, backgroundColor: PALETTE }]
      },
      options: { plugins: { legend: { position: "right" } } }
    });
    emptyNote("chart-hours-kind", c.hours_by_kind.values);
    chart("chart-hours-neighborhood", {
      type: "bar",
      data: {
        labels: c.hours_by_neighborhood.labels,
        datasets: [{ label: c.labels.hours, data: c.hours_by_neighborhood.values, backgroundColor: OK }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
    });
    emptyNote("chart-hours-neighborhood", c.hours_by_neighborhood.values);
  }

  function popup(title, url, lines) {
    var box = document.createElement("div");
    var a = document.createElement("a");
    a.href = url;
    a.textContent = title;
    box.appendChild(a);
    (lines || []).forEach(function (text) {
      var p = document.createElement("div");
      p.textContent = text;
      box.appendChild(p);
    });
    return box;
  }

  function shade(count, max) {
    if (!count) return "#e3e8ee";
    var steps = ["#fde0c5", "#f9b27f", "#ef7d48", "#d9482b", "#b3261e"];
    var i = Math.min(steps.length - 1, Math.floor((count / Math.max(max, 1)) * steps.length));
    return steps[i];
  }

  function ageColor(days) {
    if (days < 7) return OK;
    if (days <= 30) return WARN;
    return BAD;
  }

  /* Vector layers need the map's view before they are added: set it from their bounds first. */
  function show(map, layers, bounds, settings) {
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
    else map.setView(settings.center || [39.0997, -94.5786], 11);
    layers.forEach(function (layer) { layer.addTo(map); });
  }

  /* A Leaflet map on the element, with tiles when configured, and the data it draws; null if none. */
  function baseMap(elementId, dataId) {
    var el = document.getElementById(elementId);
    var d = data(dataId);
    var settings = data("dashboard-map-settings") || {};
    if (!el || !d || !window.L) return null;
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!settings.tiles });
    if (settings.tiles) L.tileLayer(settings.tiles, { attribution: settings.attribution || "", maxZoom: 19 }).addTo(map);
    return { el: el, d: d, settings: settings, map: map };
  }

  function drawMap() {
    var base = baseMap("dashboard-map", "dashboard-map-data");
    if (!base) return;
    var el = base.el, d = base.d, settings = base.settings, map = base.map;
    var bounds = L.latLngBounds([]);
    var layers = [];
    var max = d.neighborhoods.reduce(function (m, n) { return Math.max(m, n.open); }, 0);
    d.neighborhoods.forEach(function (n) {
      if (!n.boundary || !n.boundary.type) return;
      var layer = L.geoJSON(n.boundary, {
        style: { color: "#174a83", weight: 1.5, fillColor: shade(n.open, max), fillOpacity: 0.55 }
      });
      layer.bindPopup(popup(n.name, "?neighborhood=" + n.id, [n.open + " open"]));
      layers.push(layer);
      bounds.extend(layer.getBounds());
    });
    d.markers.forEach(function (m) {
      layers.push(L.circleMarker([m.lat, m.lng], {
        radius: 5, color: "#fff", weight: 1, fillColor: ageColor(m.age_days), fillOpacity: 0.9
      }).bindPopup(popup(m.code, m.url, [m.category, m.age_days + " d"])));
      bounds.extend([m.lat, m.lng]);
    });
    d.problems.forEach(function (p) {
      if (p.lat === null || p.lng === null) return;
      layers.push(L.circleMarker([p.lat, p.lng], {
        radius: 11, color: "#7b3fa0", weight: 3, fill: false, dashArray: "4 3"
      }).bindPopup(popup(p.title, p.url, [p.stage])));
    });
    show(map, layers, bounds, settings);
    el.setAttribute("data-map-ready", "1");
    window.addEventListener("beforeprint", function () { map.invalidateSize(); });
  }

  function wirePrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  /* The decisions table: a header box that ticks (or clears) every row for "assign ticked". */
  function wireTickAll() {
    document.querySelectorAll("[data-tick-all]").forEach(function (all) {
      var form = all.getAttribute("data-tick-all");
      var boxes = document.querySelectorAll('input[type=checkbox][name=issue][form="' + form + '"]');
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
    });
  }

  /* A Problem's page: its grouped issues on a map, and the before/after assessment. */
  function drawProblemMap() {
    var base = baseMap("problem-map", "problem-map-data");
    if (!base) return;
    var el = base.el, d = base.d, settings = base.settings, map = base.map;
    var bounds = L.latLngBounds([]);
    var layers = [];
    d.shapes.forEach(function (s) {
      var layer = L.geoJSON(s.boundary, { style: { color: "#174a83", weight: 2, fillOpacity: 0.08 } });
      layers.push(layer);
      bounds.extend(layer.getBounds());
    });
    var points = L.latLngBounds([]);
    d.points.forEach(function (p) {
      layers.push(L.circleMarker([p.lat, p.lng], {
        radius: 7, color: "#fff", weight: 1, fillOpacity: 0.9,
        fillColor: !p.open ? "#5b6776" : (p.overdue ? BAD : BRAND)
      }).bindPopup(popup(p.code, p.url, [p.category])));
      points.extend([p.lat, p.lng]);
    });
    // Zoom to the grouped issues; the neighborhood outline is context.
    show(map, layers, points.isValid() ? points : bounds, settings);
    el.setAttribute("data-map-ready", "1");
  }

  function drawAssessment() {
    var d = data("problem-assessment-data");
    if (!d) return;
    chart("chart-assessment", {
      type: "bar",
      data: { labels: d.labels, datasets: [{ data: d.values, backgroundColor: [WARN, BRAND] }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  /* The public transparency page: neighborhood shapes only, shaded by concerns reported. */
  function drawTransparencyMap() {
    var base = baseMap("transparency-map", "transparency-map-data");
    if (!base) return;
    var el = base.el, shapes = base.d, settings = base.settings, map = base.map;
    var bounds = L.latLngBounds([]);
    var layers = [];
    var max = shapes.reduce(function (m, s) { return Math.max(m, s.count); }, 0);
    shapes.forEach(function (s) {
      var layer = L.geoJSON(s.boundary, {
        style: { color: "#174a83", weight: 1.5, fillColor: shade(s.count, max), fillOpacity: 0.55 }
      });
      var box = document.createElement("div");
      var name = document.createElement("strong");
      name.textContent = s.name;
      box.appendChild(name);
      box.appendChild(document.createTextNode(" · " + s.count));
      layers.push(layer.bindPopup(box));
      bounds.extend(layer.getBounds());
    });
    show(map, layers, bounds, settings);
    el.setAttribute("data-map-ready", "1");
  }

  function start() {
    drawTransparencyMap();
    wirePrint();
    wireTickAll();
    drawCharts();
    drawMap();
    drawProblemMap();
    drawAssessment();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
