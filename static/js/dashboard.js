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

  /* A label as lines of at most `width` characters (Chart.js draws an array as lines), so that a long
     category or neighborhood name is shown whole on a phone instead of cut at the chart's edge. */
  function wrap(label, width) {
    var lines = [], line = "";
    String(label).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else line = line ? line + " " + word : word;
    });
    if (line) lines.push(line);
    return lines.length > 1 ? lines : lines[0] || "";
  }

  /* A horizontal bar chart that names every bar: each label wrapped to fit two fifths of the box's width,
     and the box as tall as the labels need (never skipped, never cut). */
  function barsByName(id, labels, values, datasetLabel, color) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var box = canvas.parentNode;
    var chars = Math.max(12, Math.floor((box.clientWidth * 0.4) / 6.5));
    var wrapped = labels.map(function (label) { return wrap(label, chars); });
    var lines = wrapped.reduce(function (n, l) { return n + (Array.isArray(l) ? l.length : 1); }, 0);
    box.style.height = Math.max(box.clientHeight, 48 + lines * 16 + labels.length * 10) + "px";
    chart(id, {
      type: "bar",
      data: { labels: wrapped, datasets: [{ label: datasetLabel, data: values, backgroundColor: color }] },
      options: {
        indexAxis: "y",
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: function (items) { return labels[items[0].dataIndex]; } } }
        },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false } } }
      }
    });
  }

  /* A legend as HTML under the chart, where text wraps: Chart.js's own legend cuts a long entry at
     the canvas edge on a phone. */
  function htmlLegend(id, labels, colors) {
    var canvas = document.getElementById(id);
    if (!canvas || !labels.length) return;
    var list = document.createElement("ul");
    list.className = "chart-legend";
    list.setAttribute("data-legend-for", id);
    labels.forEach(function (label, i) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch square";
      swatch.style.background = colors[i % colors.length];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + label));
      list.appendChild(item);
    });
    canvas.parentNode.parentNode.insertBefore(list, canvas.parentNode.nextSibling);
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
    barsByName("chart-open-category", c.open_by_category.labels, c.open_by_category.values, c.labels.open, BAD);
    emptyNote("chart-open-category", c.open_by_category.values);
    chart("chart-hours-kind", {
      type: "doughnut",
      data: {
        labels: c.hours_by_kind.labels,
        datasets: [{ label: c.labels.hours, data: c.hours_by_kind.values, backgroundColor: PALETTE }]
      },
      options: { plugins: { legend: { display: false } } }
    });
    htmlLegend("chart-hours-kind", c.hours_by_kind.labels, PALETTE);
    emptyNote("chart-hours-kind", c.hours_by_kind.values);
    barsByName("chart-hours-neighborhood", c.hours_by_neighborhood.labels, c.hours_by_neighborhood.values, c.labels.hours, OK);
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
