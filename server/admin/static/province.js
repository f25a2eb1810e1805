// The province view: every site's line, read again on a timer, worst first (the server sorts).
const boot = JSON.parse(document.getElementById("live-boot").textContent);
const T = boot.texts;

function minutes(seconds) {
  return seconds === null || seconds === undefined ? T.none : T.minutes.replace("{n}", Math.round(seconds / 60));
}

function render(lines) {
  const body = document.getElementById("province-rows");
  body.replaceChildren();
  for (const line of lines) {
    const tr = document.createElement("tr");
    tr.dataset.site = line.site.code;
    if (line.alerts) tr.className = "has-alerts";
    const name = document.createElement("td");
    const link = document.createElement("a");
    link.href = line.url;
    link.textContent = line.site.name;
    name.appendChild(link);
    tr.appendChild(name);
    const t = line.totals;
    for (const value of [t.waiting, minutes(line.longest_wait_s), t.over_target, line.alerts, t.issued, t.served, t.open_counters]) {
      const td = document.createElement("td");
      td.className = "num";
      td.textContent = String(value);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  document.body.dataset.ready = "true";
}

async function reload() {
  try {
    const response = await fetch(boot.url, { cache: "no-store", credentials: "same-origin" });
    if (response.ok) render((await response.json()).lines);
  } catch (err) {
    // offline: the next tick tries again
  }
}

document.body.dataset.ready = "true";
setInterval(reload, boot.refresh_ms);
