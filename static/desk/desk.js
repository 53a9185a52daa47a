// The desk's presentation helpers (desk/templatetags/desk.py): copy buttons beside long ids and links.
// Delegated from the document, so regions swapped in by a live refresh work without re-binding.
(function () {
  "use strict";
  function copied(button, text) {
    var label = button.textContent;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = label; }, 1500);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    event.preventDefault();
    var value = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(function () { copied(button, "Copied"); },
                                                function () { copied(button, "Press Ctrl+C"); });
      return;
    }
    // Plain http (make run): select a temporary field and copy it the old way.
    var field = document.createElement("textarea");
    field.value = value;
    field.setAttribute("readonly", "");
    field.style.position = "fixed";
    field.style.opacity = "0";
    document.body.appendChild(field);
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(field);
    copied(button, ok ? "Copied" : "Press Ctrl+C");
  });
})();
