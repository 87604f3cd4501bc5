/* /around/: "reports within … m of me" — the browser's position (if the resident allows it) is
   sent as the form's lat and lng; nothing is kept. Without JavaScript the button stays hidden
   and the neighborhood list does the job. */
(function () {
  "use strict";
  var button = document.getElementById("around-here");
  var form = document.getElementById("around-form");
  var status = document.getElementById("around-here-status");
  var text = JSON.parse((document.getElementById("around-text") || {}).textContent || "{}");
  if (!button || !form || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = text.locating || "";
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
      lat.value = position.coords.latitude.toFixed(5);
      lng.value = position.coords.longitude.toFixed(5);
      lat.disabled = lng.disabled = false;
      document.getElementById("id_neighborhood").disabled = true;
      form.submit();
    }, function () {
      status.textContent = text.failed || "";
    }, { timeout: 10000, maximumAge: 60000 });
  });
})();
