// The screen above one counter: its current number, huge; "Tạm dừng phục vụ" while paused;
// while no one is called there, the counter itself: its number, what it serves, who works there.

import { runClock } from "./clock.js";
import { readBoot, startDisplay } from "./live.js";

const boot = readBoot();
const options = boot.options;
const T = boot.texts;
const number = boot.counter;
const $ = (id) => document.getElementById(id);
let flashTimer = null;

function render(state) {
  const counter = state.counters.get(number);
  const ticket = counter ? counter.current : null;
  const paused = Boolean(counter && counter.status === boot.live.counter_statuses.PAUSED);
  $("counter-name").textContent = (counter && counter.name) || `${T.counter} ${number}`;
  $("number").textContent = ticket ? ticket.number : "";
  $("number").style.setProperty("--chars", Math.max(ticket ? ticket.number.length : 0, 3));
  $("service").textContent = ticket ? ticket.service_name : "";
  $("paused").hidden = !paused;
  document.body.classList.toggle("paused", paused);
  document.body.classList.toggle("empty", !ticket);
  $("idle").hidden = Boolean(ticket);
  if (!ticket) renderIdle(state, counter);
}

function renderIdle(state, counter) {
  $("idle-counter").textContent = (counter && counter.name) || `${T.counter} ${number}`;
  const names = new Map(state.services.map((s) => [s.code, s.name]));
  const served = ((counter && counter.services) || []).map((code) => names.get(code));
  const known = served.filter(Boolean);
  $("idle-services").textContent = known.length ? `${T.serves}: ${known.join(" · ")}` : "";
  const clerk = counter && counter.clerk;
  $("idle-clerk-name").textContent = clerk ? `${T.clerk}: ${clerk.name}` : T.no_clerk;
  $("idle-clerk").classList.toggle("none", !clerk);
  const photo = $("idle-photo");
  const url = clerk && clerk.photo_url;
  if (url && photo.getAttribute("src") !== url) photo.src = url;
  photo.hidden = !url || photo.dataset.failed === url;
}

// A photo that does not load is left out, not shown broken.
$("idle-photo").addEventListener("error", (event) => {
  event.target.dataset.failed = event.target.getAttribute("src");
  event.target.hidden = true;
});

function flash() {
  document.body.classList.add("flash");
  clearTimeout(flashTimer);
  flashTimer = setTimeout(
    () => document.body.classList.remove("flash"),
    options.flash_seconds * 1000,
  );
}

const unlock = $("sound-unlock");
const display = startDisplay({
  boot,
  shows: (ticket) => ticket.counter === number,
  onState: render,
  onCall: flash,
  onConnection: (up) => {
    $("offline").hidden = up;
    document.body.classList.toggle("offline", !up);
    document.body.dataset.connection = up ? "online" : "offline";
  },
  onSound: (what) => {
    if (what === "blocked") unlock.hidden = false;
    if (what === "on") unlock.hidden = true;
  },
});
unlock.addEventListener("click", () => display.unlockSound());
runClock(display.now, () => (display.state.site || {}).timezone, boot.lang, {
  whole: $("clock"),
});
