// The touch kiosk: choose a service (optionally as a priority citizen), get a number, see it,
// and come back to the start by itself. Whatever goes wrong, the screen returns to the start.

import { checkInUrl, drawQr, wireCheckIn } from "./check-in.js";
import { issueTicket, newKey } from "./issue.js";
import { connectLive } from "/static/live/connect.js";
import { printSlip } from "./print.js";
import { Text } from "./text.js";

const page = JSON.parse(document.getElementById("kiosk-data").textContent);
const text = new Text(page.texts, page.language);
const timeouts = page.timeouts;
const $ = (id) => document.getElementById(id);

const SETTLE_MS = 3000; // estimates are re-read this long after events
const REFRESH_MS = 60000; // and this often anyway (opening hours pass without events)
const OFFLINE_GRACE_MS = 4000; // no banner for a connection that is just being made
const DONE_GUARD_MS = 1500; // the second tap of a double tap must not close the number

const kiosk = {
  site: page.state.site,
  services: page.state.services,
  screen: "home",
  priority: null,
  busy: false,
  connected: false,
  everConnected: false,
  startedAt: Date.now(),
  ticket: null,
  lastTouch: Date.now(),
  screenSince: Date.now(),
  countdown: null,
  live: null,
  checkIn: null,
};

// --- screens ------------------------------------------------------------------------

function show(screen) {
  kiosk.screen = screen;
  kiosk.screenSince = Date.now();
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.dataset.screen !== screen;
  }
  document.body.dataset.screen = screen;
}

function goHome() {
  if (kiosk.checkIn) kiosk.checkIn.reset();
  clearInterval(kiosk.countdown);
  kiosk.countdown = null;
  kiosk.busy = false;
  kiosk.priority = null;
  renderPriority();
  updateServices();
  show("home");
}

// --- the service buttons --------------------------------------------------------------

function el(tag, className, content) {
  const node = document.createElement(tag);
  node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function columnsFor(count) {
  const portrait = window.innerHeight > window.innerWidth;
  if (portrait) return count <= 3 ? 1 : count <= 10 ? 2 : 3;
  if (count <= 3) return Math.max(count, 1);
  if (count === 4) return 2;
  return count <= 9 ? 3 : 4;
}

function layoutGrid() {
  const grid = $("services");
  const count = kiosk.services.length;
  const columns = columnsFor(count);
  grid.style.setProperty("--columns", String(columns));
  grid.style.setProperty("--rows", String(Math.max(1, Math.ceil(count / columns))));
}

function buildServices() {
  const grid = $("services");
  grid.replaceChildren(
    ...kiosk.services.map((service) => {
      const button = el("button", "service");
      button.type = "button";
      button.dataset.code = service.code;
      const meta = el("span", "service-meta");
      meta.append(el("span", "service-waiting"), el("span", "service-wait"));
      button.append(
        el("span", "service-name", service.name),
        el("span", "service-hint", service.hint || ""),
        meta,
        el("span", "service-state")
      );
      return button;
    })
  );
  grid.dataset.codes = kiosk.services.map((s) => s.code).join(",");
  $("no-services").hidden = kiosk.services.length > 0;
  layoutGrid();
}

function updateServices() {
  const grid = $("services");
  if (grid.dataset.codes !== kiosk.services.map((s) => s.code).join(",")) buildServices();
  for (const service of kiosk.services) {
    const button = grid.querySelector(`[data-code="${CSS.escape(service.code)}"]`);
    if (!button) continue;
    const open = service.state === "open";
    button.dataset.state = service.state;
    button.disabled = !open || kiosk.busy;
    button.setAttribute("aria-disabled", String(!open));
    button.querySelector(".service-name").textContent = service.name;
    button.querySelector(".service-hint").textContent = service.hint || "";
    button.querySelector(".service-waiting").textContent = text.t("waiting", { n: service.waiting });
    const wait = button.querySelector(".service-wait");
    if (!open || service.estimated_wait_s === undefined) {
      wait.textContent = "";
    } else if (service.estimated_wait_s === null) {
      wait.textContent = text.t("wait_no_counter"); // a ticket is taken, no one calls it yet
    } else if (service.estimated_wait_s === 0) {
      // Never "no wait" while someone waits: the count may be newer than the estimate,
      // which is read again a moment after events.
      wait.textContent = service.waiting > 0 ? "" : text.t("wait_none");
    } else {
      wait.textContent = text.t("wait_estimate", { duration: text.duration(service.estimated_wait_s) });
    }
    const stateKey = {
      closed: "service_closed",
      full: "service_full",
      inactive: "service_inactive",
      unserved: "service_unserved",
    };
    button.querySelector(".service-state").textContent = open ? "" : text.t(stateKey[service.state]);
  }
}

function applyState(state) {
  kiosk.site = state.site;
  kiosk.services = state.services;
  updateServices();
  $("check-in-open").hidden = !kiosk.site.remote_check_in;
}

function applyMessage(name, message) {
  if (message.waiting) {
    for (const service of kiosk.services) {
      if (service.code in message.waiting) service.waiting = message.waiting[service.code];
    }
  }
  if (name === page.live.names.TICKET_ISSUED && message.ticket) {
    const service = kiosk.services.find((s) => s.code === message.ticket.service);
    if (service) {
      service.issued_today += 1;
      if (service.daily_cap !== null && service.issued_today >= service.daily_cap) {
        if (service.state === "open") service.state = "full";
      }
    }
  }
  updateServices();
}

// --- priority -------------------------------------------------------------------------

function renderPriority() {
  const banner = $("priority-banner");
  banner.hidden = kiosk.priority === null;
  $("priority-open").hidden = kiosk.priority !== null;
  if (kiosk.priority !== null) {
    $("priority-selected").textContent = text.t("priority_selected", {
      label: text.priority(kiosk.priority),
    });
  }
  const prompt = $("prompt");
  prompt.dataset.t = kiosk.priority === null ? "choose_service" : "choose_service_priority";
  prompt.textContent = text.t(prompt.dataset.t);
}

// --- taking a number ------------------------------------------------------------------

async function take(code) {
  const service = kiosk.services.find((s) => s.code === code);
  if (kiosk.busy || kiosk.screen !== "home" || !service || service.state !== "open") return;
  kiosk.busy = true; // from here on every other tap is ignored
  updateServices();
  show("busy");
  const body = { service: code, priority: kiosk.priority };
  let result;
  try {
    result = await issueTicket(page.issue_url, page.token, body, newKey());
  } catch (err) {
    result = { ok: false, problem: null };
  }
  if (result.ok) {
    showTicket(result.data);
  } else {
    showError(result.problem);
  }
}

// What the citizen does with the paper: take it and keep it, or (nothing printed) remember
// the number on the screen.
function setPrintNote(key, { paper, detail = "" }) {
  const note = $("ticket-print");
  note.textContent = text.t(key);
  note.dataset.t = key;
  note.classList.toggle("alert", key === "printer_failed");
  const extra = $("ticket-print-detail");
  extra.textContent = detail || "";
  extra.hidden = !detail;
  const keep = $("ticket-keep");
  keep.dataset.t = paper ? "keep_ticket" : "wait_for_call";
  keep.textContent = text.t(keep.dataset.t);
}

function startCountdown(seconds) {
  clearInterval(kiosk.countdown);
  let left = seconds;
  const tick = () => {
    $("ticket-returning").textContent = text.t("returning", { n: left });
    if (left <= 0) goHome();
    left -= 1;
  };
  tick();
  kiosk.countdown = setInterval(tick, 1000);
}

function renderTicket(ticket) {
  const number = $("ticket-number");
  number.textContent = ticket.number;
  // Four characters fill the card; a longer number gets smaller, never cut.
  number.style.setProperty("--fit", String(Math.min(1, 4 / Math.max(ticket.number.length, 1))));
  $("ticket-service").textContent = ticket.service_name;
  const priority = $("ticket-priority");
  priority.hidden = !ticket.priority;
  priority.textContent = ticket.priority
    ? text.t("priority_selected", { label: text.priority(ticket.priority) })
    : "";
  const ahead = $("ticket-ahead");
  ahead.hidden = ticket.people_ahead === null || ticket.people_ahead === undefined;
  ahead.textContent = text.t("people_ahead", { n: ticket.people_ahead });
  const wait = $("ticket-wait");
  const unstaffed = ticket.status === page.live.statuses.WAITING && ticket.estimated_wait_s === null;
  wait.hidden = !unstaffed && (ticket.estimated_wait_s === null || ticket.estimated_wait_s === undefined);
  if (unstaffed) wait.textContent = text.t("wait_no_counter");
  else wait.textContent = wait.hidden
    ? ""
    : text.t("estimated_wait", { duration: text.duration(ticket.estimated_wait_s) });
}

// A kiosk whose printer is "preview" (the demo) shows the ticket as it would print, QR and
// all, beside the number; the frame takes the ticket's own height.
function showPreview(url) {
  const box = $("ticket-preview");
  const frame = $("ticket-preview-frame");
  box.hidden = !url;
  document.body.classList.toggle("previewing", Boolean(url));
  if (!url) {
    frame.removeAttribute("src");
    return;
  }
  frame.style.height = "";
  frame.src = url;
}

$("ticket-preview-frame").addEventListener("load", (event) => {
  const doc = event.target.contentDocument;
  const ticket = doc && doc.getElementById("ticket");
  if (ticket) event.target.style.height = `${Math.ceil(ticket.getBoundingClientRect().height) + 8}px`;
});

function showTracking(tracking) {
  const box = $("ticket-qr");
  box.hidden = !(tracking && tracking.qr);
  if (!box.hidden) drawQr($("ticket-qr-code"), tracking.qr);
}

function showTicket(data) {
  const ticket = data.ticket;
  const printed = data.print || { placement: "none", status: "skipped" };
  kiosk.ticket = ticket;
  renderTicket(ticket);
  showTracking(data.tracking);
  const done = $("ticket-done");
  done.disabled = true;
  setTimeout(() => {
    done.disabled = false;
  }, DONE_GUARD_MS);

  let seconds = timeouts.ticket;
  showPreview(printed.placement === "preview" ? printed.slip_url : null);
  if (printed.status === "failed") {
    // The server's own sentence says what failed; the citizen needs the number either way.
    const detail = text.language === "vi" ? printed.message : "";
    setPrintNote("printer_failed", { paper: false, detail });
    seconds = timeouts.ticket_unprinted;
  } else if (printed.placement === "browser" && printed.slip_url) {
    setPrintNote("printing", { paper: true });
    printSlip($("print-frame"), printed.slip_url).then((ok) => {
      if (kiosk.screen !== "ticket" || kiosk.ticket !== ticket) return;
      if (ok) {
        setPrintNote("take_ticket", { paper: true });
      } else {
        setPrintNote("printer_failed", { paper: false });
        startCountdown(timeouts.ticket_unprinted);
      }
    });
  } else if (printed.placement === "preview") {
    setPrintNote("preview", { paper: false });
  } else if (printed.status === "unknown") {
    // Sent, never confirmed by the printer: look in the tray, and keep the number in mind.
    const detail = text.language === "vi" ? printed.message : "";
    setPrintNote("take_ticket", { paper: true, detail });
    seconds = timeouts.ticket_unprinted;
  } else if (printed.status === "printed" || printed.status === "queued") {
    setPrintNote("take_ticket", { paper: true });
  } else if (printed.status === "checked_in") {
    setPrintNote("checked_in", { paper: false });
  } else {
    setPrintNote("remember_number", { paper: false });
    seconds = timeouts.ticket_unprinted;
  }
  document.body.dataset.print = printed.status;
  show("ticket");
  startCountdown(seconds);
}

function showError(problem) {
  let key = "issue_failed";
  if (problem && problem.code && page.refusals[problem.code]) key = page.refusals[problem.code];
  $("error-text").textContent = text.t(key);
  $("error-text").dataset.t = key;
  $("error-text").dataset.code = (problem && problem.code) || "unreachable";
  show("error");
  if (kiosk.live) kiosk.live.sync(); // what was refused may have changed state
  clearInterval(kiosk.countdown);
  let left = timeouts.error;
  kiosk.countdown = setInterval(() => {
    left -= 1;
    if (left <= 0) goHome();
  }, 1000);
}

// --- a number from home arrives ----------------------------------------------------------

async function checkIn(body) {
  if (kiosk.busy || kiosk.screen === "busy") return;
  kiosk.busy = true;
  updateServices();
  showIdle(false);
  show("busy");
  let result;
  try {
    result = await issueTicket(checkInUrl(page.issue_url), page.token, body, newKey());
  } catch (err) {
    result = { ok: false, problem: null };
  }
  kiosk.checkIn.reset();
  if (result.ok) {
    showTicket({ ...result.data, print: { placement: "none", status: "checked_in" } });
  } else {
    showError(result.problem);
  }
}

// --- language, idle screen, connection, clock -------------------------------------------

function useLanguage(language) {
  text.use(language);
  renderPriority();
  updateServices();
  if (kiosk.screen === "ticket" && kiosk.ticket) renderTicket(kiosk.ticket);
  if (language !== "vi") $("ticket-print-detail").hidden = true; // that sentence is Vietnamese
}

function showIdle(visible) {
  const idle = $("idle");
  if (visible === !idle.hidden) return;
  idle.hidden = !visible;
  if (visible) {
    $("idle-vi").textContent = text.t("idle_title", {}, "vi");
    $("idle-en").textContent = text.t("idle_title", {}, "en");
    if (text.language !== "vi") useLanguage("vi"); // the next citizen most likely reads Vietnamese
  }
}

function watchIdle() {
  const quiet = Date.now() - kiosk.lastTouch;
  if (kiosk.screen === "home" && kiosk.priority !== null && quiet > timeouts.choice * 1000) {
    kiosk.priority = null;
    renderPriority();
  }
  if (kiosk.screen === "priority" && quiet > timeouts.choice * 1000) goHome();
  if (kiosk.screen === "check_in" && quiet > timeouts.choice * 1000) goHome();
  if (kiosk.screen === "home" && !kiosk.busy && quiet > timeouts.idle * 1000) showIdle(true);
  // A screen that should have moved on by now (a lost timer, an exception): start over.
  const stuck = Date.now() - kiosk.screenSince;
  if (kiosk.screen !== "home" && kiosk.screen !== "busy" && stuck > timeouts.idle * 1000) goHome();
  if (kiosk.screen === "busy" && stuck > 90000) showError(null);
}

function setConnected(connected) {
  kiosk.connected = connected;
  if (connected) kiosk.everConnected = true;
  // A connection still being made at start-up is not "lost" yet.
  const starting = !kiosk.everConnected && Date.now() - kiosk.startedAt < OFFLINE_GRACE_MS;
  $("offline").hidden = connected || starting;
  document.body.dataset.connected = String(connected);
}

function tickClock() {
  const now = new Date();
  let parts;
  try {
    const format = new Intl.DateTimeFormat("en-GB", {
      timeZone: kiosk.site.timezone,
      day: "2-digit",
      month: "2-digit",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  } catch (err) {
    return;
  }
  $("clock-time").textContent = `${parts.hour}:${parts.minute}`;
  $("clock-date").textContent = `${parts.day}/${parts.month}/${parts.year}`;
}

// --- wiring -----------------------------------------------------------------------------

function wire() {
  document.addEventListener(
    "pointerdown",
    () => {
      kiosk.lastTouch = Date.now();
    },
    { capture: true }
  );
  document.addEventListener("contextmenu", (event) => event.preventDefault());
  $("services").addEventListener("click", (event) => {
    const button = event.target.closest(".service");
    if (button && !button.disabled) take(button.dataset.code);
  });
  $("priority-open").addEventListener("click", () => {
    if (!kiosk.busy) show("priority");
  });
  for (const button of document.querySelectorAll(".reason")) {
    button.addEventListener("click", () => {
      kiosk.priority = button.dataset.priority;
      renderPriority();
      show("home");
    });
  }
  $("priority-back").addEventListener("click", goHome);
  $("priority-cancel").addEventListener("click", () => {
    kiosk.priority = null;
    renderPriority();
  });
  $("ticket-done").addEventListener("click", goHome);
  $("check-in-open").addEventListener("click", () => {
    if (!kiosk.busy) show("check_in");
  });
  $("check-in-back").addEventListener("click", goHome);
  kiosk.checkIn = wireCheckIn({
    display: $("code-display"),
    keypad: $("keypad"),
    ok: $("key-ok"),
    clear: $("key-clear"),
    onCode: (code) => checkIn({ code }),
    onToken: (token) => checkIn({ tracking_token: token }),
    canScan: () => !kiosk.busy,
  });
  $("error-back").addEventListener("click", goHome);
  $("lang-toggle").addEventListener("click", () => useLanguage(text.other));
  $("idle").addEventListener("click", () => {
    kiosk.lastTouch = Date.now();
    showIdle(false);
  });
  window.addEventListener("resize", layoutGrid);
  // Never stay on a broken screen: any unexpected error sends the kiosk back to the start.
  const recover = () => {
    if (kiosk.screen !== "home") setTimeout(goHome, timeouts.error * 1000);
  };
  window.addEventListener("error", recover);
  window.addEventListener("unhandledrejection", recover);
}

function start() {
  wire();
  text.use(text.language);
  buildServices();
  renderPriority();
  updateServices();
  applyState(page.state);
  show("home");
  tickClock();
  setInterval(tickClock, 1000);
  setInterval(watchIdle, 1000);
  setTimeout(() => {
    if (!kiosk.connected) setConnected(false);
  }, OFFLINE_GRACE_MS);
  if (typeof window.io === "function") {
    kiosk.live = connectLive({
      live: page.live,
      auth: { token: page.token },
      onState: applyState,
      onMessage: applyMessage,
      onConnection: setConnected,
      refreshMs: REFRESH_MS,
      settleMs: SETTLE_MS,
    });
  }
  document.body.dataset.ready = "true";
}

start();
