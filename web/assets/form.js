// Shows only the settings of the chosen type (a medium's disk, s3 or
// tape settings; a relay's GPIO lines or module terminals). Without it
// every type's settings are shown, and the server reads only the chosen
// type's. A fieldset may belong to several types, separated by spaces.
"use strict";
(function () {
  const type = document.querySelector('#config-form select[name="type"], #config-form select[name="driver"]');
  if (!type) return;
  const show = () => {
    for (const fs of document.querySelectorAll("#config-form fieldset[data-variant]")) {
      fs.hidden = !fs.dataset.variant.split(" ").includes(type.value);
    }
  };
  type.addEventListener("change", show);
  show();
})();
