/* Issue detail map: the issue's point and its neighborhood's outline (Leaflet, vendored).
   Without MAP_TILE_URL there is no base layer: the outline and the marker still show where it is. */
(function () {
  "use strict";

  function drawIssueMap() {
    var el = document.getElementById("issue-map");
    if (!el || el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var layers = [];
    var bounds = null;
    var boundaryNode = document.getElementById("issue-boundary");
    var boundary = boundaryNode ? JSON.parse(boundaryNode.textContent) : null;
    if (boundary && boundary.type) {
      var outline = L.geoJSON(boundary, { style: { color: "#1f5fa8", weight: 2, fillOpacity: 0.08 } });
      layers.push(outline);
      bounds = outline.getBounds();
    }
    var point = null;
    if (el.dataset.lat && el.dataset.lng) {
      point = L.latLng(parseFloat(el.dataset.lat), parseFloat(el.dataset.lng));
      layers.push(
        L.circleMarker(point, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.6 }).bindTooltip(
          el.getAttribute("aria-label") || ""
        )
      );
      if (bounds && bounds.isValid()) bounds.extend(point);
    }
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!el.dataset.tileUrl });
    // A view first: Leaflet cannot draw vector layers on a map without one.
    if (bounds && bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
    } else if (point) {
      map.setView(point, 16);
    } else {
      return;
    }
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    layers.forEach(function (layer) { layer.addTo(map); });
  }

  // Queue and list pages: the page's issues as points, drawn when the map is first opened
  // (Leaflet cannot measure a container hidden inside a closed <details>).
  function drawIssuesMap() {
    var el = document.getElementById("issues-map");
    var dataNode = document.getElementById("issues-map-points");
    if (!el || !dataNode || el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var points = JSON.parse(dataNode.textContent);
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!el.dataset.tileUrl });
    var bounds = L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; }));
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    points.forEach(function (p) {
      var color = p.overdue ? "#b3261e" : "#1f5fa8";
      var marker = L.circleMarker([p.lat, p.lng], { radius: 8, color: color, weight: 2, fillOpacity: 0.6 });
      marker.bindTooltip(p.label);
      marker.on("click", function () { window.location.href = p.url; });
      marker.addTo(map);
    });
  }

  function watchIssuesMap() {
    var toggle = document.getElementById("issues-map-toggle");
    if (!toggle) return;
    if (toggle.open) drawIssuesMap();
    toggle.addEventListener("toggle", function () { if (toggle.open) drawIssuesMap(); });
  }

  // An action htmx could not complete: say so beside the actions instead of failing silently.
  // (Refusals the server explains come back as 200 fragments; these are the unexpected ones.)
  function showProblem(text) {
    var main = document.getElementById("issue-main");
    if (!main) return;
    var box = main.querySelector(".messages.client");
    if (!box) {
      box = document.createElement("div");
      box.className = "messages client";
      box.setAttribute("role", "alert");
      main.insertBefore(box, main.firstChild);
    }
    box.innerHTML = "";
    var p = document.createElement("p");
    p.className = "message error";
    p.textContent = text;
    box.appendChild(p);
    box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var main = document.getElementById("issue-main");
    var text = (main && main.dataset["error" + status]) || (main && main.dataset.errorOther) || "Error " + status;
    showProblem(text);
  });
  document.addEventListener("htmx:sendError", function () {
    var main = document.getElementById("issue-main");
    showProblem((main && main.dataset.errorOffline) || "No connection.");
  });

  // After an action updates the issue in place, its outcome is announced from a live region that
  // was on the page before the update (one swapped in with its text is often not read out), and
  // the keyboard focus, whose button was just replaced, goes to that outcome, not back to the top.
  document.addEventListener("htmx:afterSwap", function () {
    var main = document.getElementById("issue-main");
    var live = document.getElementById("issue-announce");
    if (!main || !live) return;
    var outcome = main.querySelector(".messages, .field-error");
    live.textContent = outcome ? outcome.textContent.trim() : "";
    var target = outcome || main;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  });

  function start() {
    drawIssueMap();
    watchIssuesMap();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
