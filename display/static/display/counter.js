// The screen above one counter: its current number, huge; "Tạm ngừng phục vụ" while paused.

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
  const paused = Boolean(counter && counter.status === "paused");
  $("counter-name").textContent = (counter && counter.name) || `${T.counter} ${number}`;
  $("number").textContent = ticket ? ticket.number : "";
  $("number").style.setProperty("--chars", Math.max(ticket ? ticket.number.length : 0, 3));
  $("service").textContent = ticket ? ticket.service_name : "";
  $("paused").hidden = !paused;
  document.body.classList.toggle("paused", paused);
  document.body.classList.toggle("empty", !ticket);
}

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
