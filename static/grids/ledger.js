// The visit form: "Add my position" fills the optional position fields from the phone's GPS.
// Nothing is sent unless the worker taps the button (a position is never compulsory).
(function () {
  "use strict";
  var button = document.querySelector("[data-add-position]");
  if (!button || !navigator.geolocation) { return; }
  var latitude = document.getElementById("id_latitude");
  var longitude = document.getElementById("id_longitude");
  var status = document.querySelector("[data-position-status]");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.waiting;
    navigator.geolocation.getCurrentPosition(function (position) {
      latitude.value = position.coords.latitude.toFixed(6);
      longitude.value = position.coords.longitude.toFixed(6);
      status.textContent = button.dataset.done + " " + latitude.value + ", " + longitude.value;
    }, function () {
      status.textContent = button.dataset.failed;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
