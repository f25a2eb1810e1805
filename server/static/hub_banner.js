// The staff pages' banner while the site cannot reach the province hub: asked again
// every 20 s, so it appears and goes away without a reload.
(function () {
  "use strict";
  const banner = document.getElementById("hub-offline");
  if (!banner) return;
  const url = banner.dataset.url;
  async function refresh() {
    try {
      const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      const data = await answer.json();
      banner.textContent = data.offline || "";
      banner.hidden = !data.offline;
    } catch (_err) {
      // the site server itself is unreachable: the page's own indicator says so
    }
  }
  setInterval(refresh, 20000);
})();
