/* Leaflet's controls in the page's language: the zoom buttons' names come from #map-text
   (templates/_leaflet.html), set as Leaflet's defaults before any map on the page is made. */
(function () {
  "use strict";
  var source = document.getElementById("map-text");
  if (!source || !window.L) return;
  var text = JSON.parse(source.textContent);
  window.L.Control.Zoom.prototype.options.zoomInTitle = text.zoomIn;
  window.L.Control.Zoom.prototype.options.zoomOutTitle = text.zoomOut;
})();
