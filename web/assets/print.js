// The password sheet's "Print" button (the page's CSP allows no inline script).
"use strict";
(function () {
  const b = document.getElementById("print-sheet");
  if (b) b.addEventListener("click", () => window.print());
})();
