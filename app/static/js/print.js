// The "Print now" button of a checklist's print layout (?print=1). Without JavaScript the page
// says to use the browser's Print command, which prints the same layout.
(function () {
  "use strict";
  var button = document.getElementById("print-now");
  if (!button || typeof window.print !== "function") return;
  var holder = button.closest(".js-only");
  if (holder) holder.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
