// The lobby display: a tile per counter, the newest call large, the last calls, the waiting
// counts, the clock, the notice line, the media area. Rendering only; live.js keeps the state.
// The newest call and the last calls are calls (number, counter, time): they stay on screen
// after the ticket was finished or marked absent, until newer calls replace them.

import { dateParts, runClock } from "./clock.js";
import { readBoot, startDisplay, ticketFilter } from "./live.js";
import { startMedia } from "./media.js";

const boot = readBoot();
const options = boot.options;
const T = boot.texts;
const shows = ticketFilter(options);
const $ = (id) => document.getElementById(id);

let flashing = null; // the ticket whose call flashes, until flashUntil
let flashUntil = 0;
let flashTimer = null;
let current = null;

function autoColumns(tiles) {
  if (tiles <= 2) return Math.max(tiles, 1);
  if (tiles <= 4) return 2;
  if (tiles <= 9) return 3;
  return 4;
}

// The text, and its length for the CSS that makes it as large as its box allows.
function setNumber(element, text) {
  element.textContent = text;
  element.style.setProperty("--chars", Math.max(String(text).length, 3));
}

function isFlashing(ticket) {
  return Boolean(ticket && flashing && ticket.id === flashing.id && Date.now() < flashUntil);
}

function tileFor(box, number) {
  let tile = box.querySelector(`.tile[data-counter="${number}"]`);
  if (!tile) {
    tile = document.createElement("section");
    tile.className = "tile";
    tile.dataset.counter = String(number);
    tile.innerHTML =
      '<div class="head"><span class="name"></span><span class="badge"></span></div>' +
      '<div class="number"></div><div class="service"></div>';
    box.appendChild(tile);
  }
  return tile;
}

function renderCounters(state) {
  const box = $("tiles");
  const wanted = options.counters ? new Set(options.counters) : null;
  const list = state.counterList().filter((c) => c.active && (!wanted || wanted.has(c.number)));
  box.style.setProperty("--columns", options.columns || autoColumns(list.length));
  const keep = new Set(list.map((c) => String(c.number)));
  for (const old of box.querySelectorAll(".tile")) {
    if (!keep.has(old.dataset.counter)) old.remove();
  }
  for (const counter of list) {
    const tile = tileFor(box, counter.number);
    box.appendChild(tile); // keeps the order of the numbers
    const paused = counter.status === boot.live.counter_statuses.PAUSED;
    const ticket = counter.current;
    tile.classList.toggle("paused", paused && !ticket);
    tile.classList.toggle("empty", !ticket);
    tile.classList.toggle("flash", isFlashing(ticket));
    tile.querySelector(".name").textContent = counter.name || `${T.counter} ${counter.number}`;
    tile.querySelector(".badge").textContent = paused && ticket ? T.paused : "";
    setNumber(tile.querySelector(".number"), ticket ? ticket.number : paused ? T.paused : "—");
    tile.querySelector(".service").textContent = ticket ? ticket.service_name : "";
  }
}

// "09:42", in the site's zone, of the moment a call was made.
function callTime(call) {
  const at = call.call_at || call.called_at;
  if (!at || !current || !current.site) return "";
  return dateParts(new Date(at), current.site.timezone, boot.lang).time;
}

function renderNewest(calls) {
  const newest = calls[0];
  const box = $("newest");
  box.classList.toggle("none", !newest);
  box.classList.toggle("flash", isFlashing(newest));
  setNumber($("newest-number"), newest ? newest.number : "");
  $("newest-counter").textContent = newest ? newest.counter : "";
  $("newest-service").textContent = newest ? newest.service_name : T.no_calls;
  $("newest-time").textContent = newest ? `${T.called_at} ${callTime(newest)}` : "";
}

function renderRecent(calls) {
  const list = $("recent");
  list.replaceChildren(
    ...calls.slice(1, 1 + options.recent).map((ticket) => {
      const item = document.createElement("li");
      item.dataset.ticket = String(ticket.id);
      const number = document.createElement("span");
      number.className = "number";
      number.textContent = ticket.number;
      const counter = document.createElement("span");
      counter.className = "counter";
      counter.textContent = `${T.counter} ${ticket.counter}`;
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = callTime(ticket);
      item.append(number, counter, time);
      return item;
    }),
  );
  $("recent-box").hidden = options.recent === 0;
  // As many as fit: a half-cut line would be misread from afar.
  const bottom = $("recent-box").getBoundingClientRect().bottom;
  for (const item of [...list.children].reverse()) {
    if (item.getBoundingClientRect().bottom <= bottom) break;
    item.remove();
  }
}

// The services some counter calls now: open (not paused), active, a clerk signed in. The
// wait estimates count only those (server/engine/estimates.py); the counters' events keep
// this live without another read.
function staffedServices(state) {
  const staffed = new Set();
  for (const counter of state.counterList()) {
    if (counter.active && counter.status === boot.live.counter_statuses.OPEN && counter.clerk) {
      for (const code of counter.services || []) staffed.add(code);
    }
  }
  return staffed;
}

function renderWaiting(state) {
  const wanted = options.services ? new Set(options.services) : null;
  const staffed = staffedServices(state);
  const strip = $("waiting");
  strip.replaceChildren(
    ...state.services
      .filter((s) => !wanted || wanted.has(s.code))
      .map((service) => {
        const chip = document.createElement("div");
        chip.className = "chip";
        chip.dataset.service = service.code;
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = service.name;
        const count = document.createElement("span");
        count.className = "count";
        count.textContent = String(state.waiting[service.code] ?? service.waiting ?? 0);
        chip.title = `${service.name}: ${count.textContent} ${T.waiting_people}`;
        chip.append(name, count);
        chip.dataset.staffed = String(staffed.has(service.code));
        if (!staffed.has(service.code)) {
          const note = document.createElement("span");
          note.className = "unstaffed";
          note.textContent = T.no_counter;
          chip.append(note);
        }
        return chip;
      }),
  );
}

function render(state) {
  current = state;
  const calls = state.recent.filter(shows);
  renderCounters(state);
  renderNewest(calls);
  renderRecent(calls);
  renderWaiting(state);
  if (state.site) $("site-name").textContent = state.site.name;
}

function flash(ticket) {
  flashing = ticket;
  flashUntil = Date.now() + options.flash_seconds * 1000;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => current && render(current), options.flash_seconds * 1000 + 50);
  if (current) render(current);
}

function startTicker() {
  const line = $("notice-text");
  if (!line || !line.textContent.trim()) return;
  const fit = () => {
    const speed = window.innerHeight * 0.12; // pixels a second, the same look at any size
    const seconds = Math.max((line.offsetWidth + window.innerWidth) / speed, 8);
    line.style.setProperty("--ticker-s", `${seconds.toFixed(1)}s`);
    // Start with the text already on screen, near the left edge, not off to the right.
    line.style.animationDelay = `-${((window.innerWidth * 0.985) / speed).toFixed(1)}s`;
  };
  fit();
  window.addEventListener("resize", fit);
}

const media = startMedia($("media"), options);
const unlock = $("sound-unlock");

const display = startDisplay({
  boot,
  shows,
  onState: render,
  onCall: (ticket) => flash(ticket),
  onConnection: (up) => {
    $("offline").hidden = up;
    document.body.classList.toggle("offline", !up);
    document.body.dataset.connection = up ? "online" : "offline";
  },
  onSound: (what) => {
    if (what === "blocked") unlock.hidden = false;
    if (what === "on") unlock.hidden = true;
    if (what === "speaking") media.duck(true);
    if (what === "quiet") media.duck(false);
  },
});
unlock.addEventListener("click", () => display.unlockSound());

runClock(display.now, () => (display.state.site || {}).timezone, boot.lang, {
  time: $("clock-time"),
  date: $("clock-date"),
});
startTicker();
