// The live dashboard of one site: the snapshot from the page, then read again (live.json)
// after every event of the site's Socket.IO room and on a timer (a wait passes the target
// with no event at all).
import { connectLive } from "/static/live/connect.js";

const boot = JSON.parse(document.getElementById("live-boot").textContent);
const T = boot.texts;
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));

function duration(seconds) {
  if (seconds === null || seconds === undefined) return T.none;
  const s = Math.round(seconds);
  if (s < 60) return fill(T.seconds, { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return fill(T.minutes, { n: m });
  return fill(T.hours, { h: Math.floor(m / 60), m: m % 60 });
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function alertText(alert) {
  if (alert.kind === "over_target") {
    return fill(T.alert_over_target, {
      service: alert.service_name,
      count: alert.count,
      target: alert.target_min,
      number: alert.number,
      wait: duration(alert.wait_s),
    });
  }
  if (alert.kind === "unserved") {
    return fill(T.alert_unserved, { service: alert.service_name, count: alert.count });
  }
  return fill(T.alert_printer, { device: alert.device, number: alert.number, error: alert.error });
}

function render(snap) {
  const alerts = document.getElementById("alerts");
  alerts.replaceChildren();
  for (const alert of snap.alerts) {
    const p = document.createElement("p");
    p.className = `alert alert-${alert.kind}`;
    p.dataset.kind = alert.kind;
    p.textContent = alertText(alert);
    alerts.appendChild(p);
  }
  alerts.dataset.count = String(snap.alerts.length);
  if (!snap.alerts.length) {
    const p = document.createElement("p");
    p.className = "no-alerts muted";
    p.textContent = T.no_alerts;
    alerts.appendChild(p);
  }
  for (const el of document.querySelectorAll("[data-total]")) {
    el.textContent = String(snap.totals[el.dataset.total] ?? "");
  }
  const services = document.getElementById("services-rows");
  services.replaceChildren();
  for (const s of snap.services) {
    const tr = document.createElement("tr");
    tr.dataset.service = s.code;
    if (s.over_target) tr.className = "over";
    cell(tr, s.name);
    cell(tr, String(s.waiting), "num waiting");
    cell(tr, s.longest_wait_s === null ? T.none : `${duration(s.longest_wait_s)} (${s.longest_number})`, "num");
    cell(tr, String(s.over_target), "num");
    cell(tr, String(s.served), "num");
    cell(tr, s.counters.join(", ") || T.none);
    services.appendChild(tr);
  }
  const counters = document.getElementById("counters-rows");
  counters.replaceChildren();
  for (const c of snap.counters) {
    const tr = document.createElement("tr");
    tr.dataset.counter = String(c.number);
    tr.dataset.state = c.state;
    cell(tr, c.name || String(c.number));
    cell(tr, T[`state_${c.state}`] || c.state, `state state-${c.state}`);
    cell(tr, c.clerk || T.none);
    cell(tr, c.ticket || "", "ticket");
    cell(tr, duration(c.for_s), "num");
    counters.appendChild(tr);
  }
  document.getElementById("updated-at").textContent = new Date().toLocaleTimeString("vi-VN");
  document.body.dataset.seq = String(snap.seq);
  document.body.dataset.ready = "true";
}

let reading = null;
let again = false;
async function reload() {
  if (reading) {
    again = true;
    return;
  }
  reading = (async () => {
    try {
      const response = await fetch(boot.url, { cache: "no-store", credentials: "same-origin" });
      if (response.ok) render(await response.json());
    } catch (err) {
      // offline: the next event or tick tries again
    }
  })();
  await reading;
  reading = null;
  if (again) {
    again = false;
    reload();
  }
}

render(boot.snapshot);
const connection = document.getElementById("connection");
window.xephangLive = connectLive({
  live: boot.live, // the site's messages and a kiosk's failed print, named by the server
  auth: { site: boot.site },
  onState: () => reload(),
  onMessage: () => reload(),
  onConnection: (up) => {
    connection.dataset.state = up ? "connected" : "offline";
    connection.textContent = up ? T.connected : T.offline;
    document.body.dataset.connected = String(up);
  },
});
setInterval(reload, boot.refresh_ms);
