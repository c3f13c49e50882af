// Shows only the settings of the chosen type (a medium's disk, s3 or
// tape settings). Without it every type's settings are shown, and the
// server reads only the chosen type's.
"use strict";
(function () {
  const type = document.querySelector('#config-form select[name="type"]');
  if (!type) return;
  const show = () => {
    for (const fs of document.querySelectorAll("#config-form fieldset[data-variant]")) {
      fs.hidden = fs.dataset.variant !== type.value;
    }
  };
  type.addEventListener("change", show);
  show();
})();
