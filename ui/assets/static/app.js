// Live pages: while the page says it is live, every change the server reports makes
// the page fetch itself again and swap in its main part. A run's page stops once the
// run is no longer running.
"use strict";
(function () {
  let source = null;
  let pending = false;

  function live() { return document.body.dataset.live === "true"; }

  async function refresh() {
    pending = false;
    const resp = await fetch(location.href, { cache: "no-store", headers: { "Accept": "text/html" } });
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    const fresh = doc.getElementById("live");
    if (fresh) {
      document.getElementById("live").replaceChildren(...fresh.childNodes);
      wire();
    }
    document.body.dataset.live = doc.body.dataset.live;
    if (!live() && source) { source.close(); source = null; }
  }

  function follow() {
    if (!live() || source) return;
    source = new EventSource("/events");
    source.addEventListener("change", function () {
      if (pending) return;
      pending = true;
      setTimeout(refresh, 100);
    });
  }

  function wire() {
    for (const b of document.querySelectorAll("button.copy")) {
      b.onclick = function () {
        const text = document.getElementById(b.dataset.copy).textContent;
        navigator.clipboard.writeText(text).then(function () { b.textContent = "Copied"; });
      };
    }
    const bars = document.querySelector("svg.bars");
    if (bars) bars.style.setProperty("--rows", String(bars.querySelectorAll("rect").length * 18));
  }

  wire();
  follow();
})();
