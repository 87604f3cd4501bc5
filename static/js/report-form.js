/* The resident's report form and status-page map. Progressive enhancement only:
 * every part of the form works without this file (address + neighborhood list,
 * and a server-rendered "is this the same problem?" step). */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }

  // --- errors: move focus to the summary so it is read first -------------------
  function focusErrorSummary() {
    var summary = $("#error-summary");
    if (summary) {
      summary.focus();
      return;
    }
    var step = $("#same-problem-step");
    if (step) {
      var legend = step.querySelector("fieldset");
      if (legend) { legend.setAttribute("tabindex", "-1"); legend.focus(); }
    }
  }

  // --- point in polygon (GeoJSON: [lng, lat]) --------------------------------
  function inRing(lng, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lng < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function polygonsOf(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return [geometry.coordinates];
    if (geometry.type === "MultiPolygon") return geometry.coordinates;
    return [];
  }
  function contains(geometry, lat, lng) {
    return polygonsOf(geometry).some(function (polygon) {
      return inRing(lng, lat, polygon[0]) && !polygon.slice(1).some(function (hole) { return inRing(lng, lat, hole); });
    });
  }

  function addTiles(map, el) {
    var url = el.getAttribute("data-tile-url");
    if (url) {
      window.L.tileLayer(url, { attribution: el.getAttribute("data-tile-attribution") || "", maxZoom: 19 }).addTo(map);
    }
  }

  // --- the report form ---------------------------------------------------------
  function initReportForm(form) {
    var latInput = $("#id_lat", form), lngInput = $("#id_lng", form);
    var select = $("#id_neighborhood", form);
    var slot = $("#same-problem-slot", form);
    var status = $("#map-status", form);
    var clearButton = $("#clear-point", form);
    var features = [];
    var marker = null, map = null;

    // Description counter (announced politely, not on every key).
    var description = $("#id_description", form), counter = $("#description-counter", form);
    if (description && counter) {
      var max = parseInt(description.getAttribute("maxlength") || "5000", 10);
      var timer = null;
      var update = function () {
        counter.hidden = false;
        counter.textContent = (counter.getAttribute("data-template") || "{n} / {max}")
          .replace("{n}", String(description.value.length)).replace("{max}", String(max));
      };
      description.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 400); });
    }

    // Anonymous: contact fields are disabled (and so not sent) while it is ticked.
    var anonymous = $("#id_anonymous", form), contactFields = $("#contact-fields", form);
    function syncAnonymous() {
      if (!anonymous || !contactFields) return;
      contactFields.hidden = anonymous.checked;
      Array.prototype.forEach.call(contactFields.querySelectorAll("input"), function (input) {
        input.disabled = anonymous.checked;
      });
    }
    if (anonymous) { anonymous.addEventListener("change", syncAnonymous); syncAnonymous(); }

    function chosenCategory() {
      var checked = form.querySelector("input[name=category]:checked");
      return checked ? checked.value : "";
    }

    var pending = null;
    function refreshSameProblem() {
      var category = chosenCategory();
      var params = new URLSearchParams();
      if (!category) { slot.innerHTML = ""; return; }
      params.set("category", category);
      if (latInput.value && lngInput.value) {
        params.set("lat", latInput.value);
        params.set("lng", lngInput.value);
      } else if (select && select.value) {
        params.set("neighborhood", select.value);
      } else {
        slot.innerHTML = "";
        return;
      }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(form.getAttribute("data-same-problem-url") + "?" + params.toString(), {
        signal: pending.signal, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin"
      }).then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          // The server-rendered step (no-JS path) is replaced by the live list.
          var step = $("#same-problem-step", form);
          if (step) step.parentNode.removeChild(step);
          slot.innerHTML = html;
        })
        .catch(function () { /* aborted or offline: the server asks again on submit */ });
    }

    Array.prototype.forEach.call(form.querySelectorAll("input[name=category]"), function (radio) {
      radio.addEventListener("change", refreshSameProblem);
    });
    if (select) select.addEventListener("change", function () { if (!latInput.value) refreshSameProblem(); });

    function neighborhoodAt(lat, lng) {
      for (var i = 0; i < features.length; i++) {
        if (contains(features[i].geometry, lat, lng)) return features[i];
      }
      return null;
    }

    function setPoint(lat, lng, announce) {
      latInput.value = lat.toFixed(6);
      lngInput.value = lng.toFixed(6);
      if (map) {
        if (marker) marker.setLatLng([lat, lng]); else marker = window.L.marker([lat, lng], { keyboard: false }).addTo(map);
      }
      var found = neighborhoodAt(lat, lng);
      if (found) {
        if (select) select.value = String(found.properties.id);
        status.textContent = (status.getAttribute("data-inside") || "Point chosen in {name}.").replace("{name}", found.properties.name);
        status.className = "map-status ok";
      } else if (features.length) {
        status.textContent = status.getAttribute("data-outside") || "That point is outside the neighborhoods we serve.";
        status.className = "map-status bad";
      }
      if (clearButton) clearButton.hidden = false;
      if (announce !== false) refreshSameProblem();
    }

    function clearPoint() {
      latInput.value = "";
      lngInput.value = "";
      if (marker && map) { map.removeLayer(marker); marker = null; }
      status.textContent = "";
      if (clearButton) clearButton.hidden = true;
      refreshSameProblem();
    }
    if (clearButton) clearButton.addEventListener("click", clearPoint);

    // An address chosen from the suggestions (address-suggest.js): its point, and its neighborhood
    // (known even before the outlines have loaded, or with no map at all).
    form.addEventListener("address-chosen", function (event) {
      var item = event.detail;
      if (select && item.neighborhood) select.value = String(item.neighborhood.id);
      if (map) map.setView([item.lat, item.lng], Math.max(map.getZoom(), 16));
      setPoint(item.lat, item.lng);
    });

    var mapEl = $("#report-map", form);
    if (mapEl && window.L) {
      $("#map-wrap", form).hidden = false;
      var center = [parseFloat(form.getAttribute("data-center-lat")), parseFloat(form.getAttribute("data-center-lng"))];
      map = window.L.map(mapEl, { scrollWheelZoom: false }).setView(center, 13);
      addTiles(map, form);
      map.on("click", function (event) { setPoint(event.latlng.lat, event.latlng.lng); });
      // By keyboard: the arrow keys move the map (Leaflet's own), Enter or Space puts the pin at
      // its centre, under the cross drawn while the map has the focus.
      mapEl.addEventListener("keydown", function (event) {
        if (event.target !== mapEl || (event.key !== "Enter" && event.key !== " ")) return;
        event.preventDefault();
        var centre = map.getCenter();
        setPoint(centre.lat, centre.lng);
      });
      fetch(form.getAttribute("data-outlines-url"), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (collection) {
          features = collection.features || [];
          if (!features.length) return;
          var layer = window.L.geoJSON(collection, {
            style: { color: "#1f5fa8", weight: 2, fillOpacity: 0.06 },
            onEachFeature: function (feature, shape) { shape.bindTooltip(feature.properties.name); }
          }).addTo(map);
          // Clicks on an outline are clicks on the map.
          layer.on("click", function (event) { setPoint(event.latlng.lat, event.latlng.lng); });
          if (!latInput.value) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
          if (latInput.value && lngInput.value) setPoint(parseFloat(latInput.value), parseFloat(lngInput.value), false);
        })
        .catch(function () { /* outlines are a help, not a need */ });
      if (latInput.value && lngInput.value) {
        map.setView([parseFloat(latInput.value), parseFloat(lngInput.value)], 16);
      }
      var locate = $("#use-my-location", form);
      if (locate) {
        if (!navigator.geolocation) { locate.hidden = true; } else {
          locate.addEventListener("click", function () {
            navigator.geolocation.getCurrentPosition(function (position) {
              var lat = position.coords.latitude, lng = position.coords.longitude;
              map.setView([lat, lng], 17);
              setPoint(lat, lng);
            }, function () {
              status.textContent = status.getAttribute("data-no-location") || "Your location is not available.";
            }, { enableHighAccuracy: true, timeout: 10000 });
          });
        }
      }
    }
  }

  // --- the status page's small map ------------------------------------------------
  function initStatusMap(el) {
    if (!window.L) return;
    el.hidden = false;
    var key = document.getElementById("status-map-key");  /* the legend shows with the map it explains */
    if (key) key.hidden = false;
    var lat = parseFloat(el.getAttribute("data-lat")), lng = parseFloat(el.getAttribute("data-lng"));
    var map = window.L.map(el, { scrollWheelZoom: false, dragging: true }).setView([lat, lng], 15);
    addTiles(map, el);
    var boundary = $("#status-boundary");
    if (boundary) {
      try {
        var geometry = JSON.parse(boundary.textContent);
        if (geometry) window.L.geoJSON(geometry, { style: { color: "#1f5fa8", weight: 2, fillOpacity: 0.05 } }).addTo(map);
      } catch (e) { /* no outline */ }
    }
    // A circle, not a pin: the public point is deliberately approximate.
    window.L.circle([lat, lng], { radius: 80, color: "#b15c00", fillOpacity: 0.25 }).addTo(map);
  }

  function start() {
    var form = $("#report-form");
    if (form) initReportForm(form);
    var statusMap = $("#status-map");
    if (statusMap) initStatusMap(statusMap);
    focusErrorSummary();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
