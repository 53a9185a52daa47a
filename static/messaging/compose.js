// The compose form (compose page and group workspace): show only the fieldsets of the chosen message type.
(function () {
  "use strict";
  function show(select) {
    document.querySelectorAll(".compose-type").forEach(function (set) {
      set.hidden = set.dataset.types.split(" ").indexOf(select.value) < 0;
    });
  }
  function start() {
    var select = document.getElementById("id_type");
    if (!select) { return; }
    select.addEventListener("change", function () { show(select); });
    show(select);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
