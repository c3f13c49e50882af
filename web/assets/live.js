// Live view of a running cycle: server-sent events from /events. The
// server words everything; this only copies text into the page.
"use strict";
(function () {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text || ""; };
  let sawRunning = !live.classList.contains("hidden");
  const es = new EventSource("/events");
  es.addEventListener("status", (e) => {
    const d = JSON.parse(e.data);
    for (const m of d.media || []) {
      for (const card of document.querySelectorAll(".card[data-medium]")) {
        if (card.dataset.medium !== m.name) continue;
        card.dataset.state = m.state;
        card.className = "card state-" + m.state;
        card.querySelector(".state").textContent = m.label;
        card.querySelector(".since-v").textContent = m.since;
        card.querySelector(".reason").textContent = m.reason || "";
      }
    }
  });
  es.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    sawRunning = true;
    live.classList.remove("hidden");
    set("live-phase", p.phase);
    set("live-medium", p.medium);
    set("live-bytes", p.bytes);
    set("live-rate", p.rate);
    set("live-eta", p.eta);
    set("live-text", p.text);
    const bar = document.getElementById("live-bar");
    if (p.percent >= 0) bar.value = p.percent; else bar.removeAttribute("value");
  });
  es.addEventListener("idle", () => {
    live.classList.add("hidden");
    // The job's results (last cycle, timeline, records) changed: show them.
    if (sawRunning) { es.close(); window.setTimeout(() => window.location.assign(window.location.pathname), 1000); }
  });
})();
