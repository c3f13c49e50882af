// Sends the update bundle as the raw body of a PUT, with the CSRF token
// and the password typed again in headers: a form upload would be read
// whole before it could be checked.
"use strict";
(function () {
  const form = document.getElementById("update-form");
  if (!form) return;
  const out = document.getElementById("update-result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = document.getElementById("update-file").files[0];
    const pw = document.getElementById("update-password");
    if (!file) return;
    const button = form.querySelector("button");
    button.disabled = true;
    out.textContent = "…";
    try {
      const r = await fetch(form.getAttribute("action"), {
        method: "PUT",
        headers: { "X-CSRF-Token": form.dataset.csrf, "X-Danzen-Password": pw.value, "Content-Type": "application/octet-stream" },
        body: file,
      });
      out.textContent = await r.text();
      out.className = r.ok ? "ok" : "error";
    } catch (e) {
      out.textContent = String(e);
      out.className = "error";
    } finally {
      pw.value = "";
      button.disabled = false;
    }
  });
})();
