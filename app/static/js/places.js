// "Use my position" on the places page: fills lat/lon from the browser and submits. Without
// JavaScript (or without permission) the ward and place fields do the same job.
(function () {
  "use strict";
  var form = document.getElementById("place-search");
  var button = document.getElementById("use-position");
  if (!form || !button || !("geolocation" in navigator)) return;
  var holder = button.closest(".js-only");
  if (holder) holder.hidden = false;
  var status = document.getElementById("position-status");
  function field(name, value) {
    var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  button.addEventListener("click", function () {
    status.textContent = button.getAttribute("data-finding") || "…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        field("lat", position.coords.latitude.toFixed(6));
        field("lon", position.coords.longitude.toFixed(6));
        form.querySelector("#near-ward").value = "";
        form.querySelector("#near-text").value = "";
        form.submit();
      },
      function () {
        status.textContent = button.getAttribute("data-failed") || "";
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
    );
  });
})();
