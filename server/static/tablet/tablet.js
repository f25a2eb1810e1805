// The rating tablet at a counter: idle (counter and clerk), then after "Hoàn thành" the rating
// buttons for that ticket, the reasons after a low rating, the thanks, and idle again.
//
// Names and labels are written with textContent only: a name containing HTML stays text.

import { connectLive } from "/static/live/connect.js";

const boot = JSON.parse(document.getElementById("xephang-boot").textContent);
const texts = boot.texts;
const counterNumber = boot.counter.number;
const ratingUrl = `/api/v1/sites/${encodeURIComponent(boot.site.code)}/counters/${counterNumber}/rating`;

const screens = ["idle", "rating", "reasons", "thanks"];
const $ = (id) => document.getElementById(id);

let current = null; // {id, number} of the ticket being rated
let chosenScore = null;
let chosenReasons = new Set();
let sending = false;
let timer = null;
let reloadWhenIdle = false; // settings changed while someone was rating

function show(name) {
  for (const id of screens) $(id).hidden = id !== name;
  document.body.dataset.screen = name;
}

function later(ms, action) {
  clearTimeout(timer);
  timer = setTimeout(action, ms);
}

function say(text) {
  const message = $("message");
  message.textContent = text || "";
  message.hidden = !text;
}

function idle() {
  clearTimeout(timer);
  current = null;
  chosenScore = null;
  chosenReasons = new Set();
  say("");
  show("idle");
  if (reloadWhenIdle) window.location.reload();
}

function renderIdle() {
  $("counter-name").textContent = boot.counter.name || `${texts.counter} ${counterNumber}`;
  const clerk = boot.clerk;
  const photo = $("clerk-photo");
  if (clerk && clerk.name) {
    $("clerk-label").textContent = texts.clerk;
    $("clerk-name").textContent = clerk.name;
  } else {
    $("clerk-label").textContent = "";
    $("clerk-name").textContent = texts.no_clerk;
  }
  if (clerk && clerk.photo_url) {
    photo.src = clerk.photo_url;
    photo.alt = clerk.name || "";
    photo.hidden = false;
  } else {
    photo.hidden = true;
  }
}

function levelClass(level) {
  if (level.low) return "level-low";
  if (level.score === boot.scale) return "level-best";
  if (level.score === boot.scale - 1 && boot.scale >= 4) return "level-good";
  return "level-neutral";
}

function renderLevels() {
  const box = $("levels");
  box.replaceChildren();
  for (const level of boot.levels) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = levelClass(level);
    button.dataset.score = String(level.score);
    button.textContent = level.label;
    button.addEventListener("click", () => choose(level));
    box.append(button);
  }
}

function renderReasons() {
  const box = $("reason-list");
  box.replaceChildren();
  for (const reason of boot.reasons) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.reason = reason.code;
    button.setAttribute("aria-pressed", "false");
    button.textContent = reason.label;
    button.addEventListener("click", () => {
      if (chosenReasons.has(reason.code)) chosenReasons.delete(reason.code);
      else chosenReasons.add(reason.code);
      button.setAttribute("aria-pressed", String(chosenReasons.has(reason.code)));
      later(boot.timeouts.rating_ms, idle);
    });
    box.append(button);
  }
}

let asked = 0; // how many tickets this page has asked about (for tests and diagnostics)

function ask(ticket) {
  asked += 1;
  document.body.dataset.asked = String(asked);
  current = { id: ticket.id, number: ticket.number };
  chosenScore = null;
  chosenReasons = new Set();
  for (const button of $("reason-list").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", "false");
  }
  $("rating-ticket").textContent = ticket.number || "";
  say("");
  show("rating");
  later(boot.timeouts.rating_ms, idle);
}

function choose(level) {
  if (!current || sending) return;
  chosenScore = level.score;
  if (level.low) {
    show("reasons");
    later(boot.timeouts.rating_ms, idle);
  } else {
    send([]);
  }
}

function thanks() {
  current = null;
  say("");
  show("thanks");
  later(boot.timeouts.thanks_ms, idle);
}

async function send(reasons) {
  if (!current || chosenScore === null || sending) return;
  sending = true;
  say("");
  try {
    const response = await fetch(ratingUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${boot.token}` },
      body: JSON.stringify({ ticket_id: current.id, score: chosenScore, reasons }),
    });
    if (response.ok) {
      thanks();
      return;
    }
    const problem = await response.json().catch(() => ({}));
    if (problem.code === "already_rated") {
      thanks();
    } else {
      say(problem.detail || texts.refused);
      later(boot.timeouts.thanks_ms, idle);
    }
  } catch (_error) {
    say(texts.failed); // the buttons stay: a tap tries again
  } finally {
    sending = false;
  }
}

$("send").addEventListener("click", () => send([...chosenReasons]));
$("skip").addEventListener("click", () => send([]));

renderIdle();
renderLevels();
renderReasons();
idle();

// The shared live connection: it reconnects, resyncs on a gap in `seq` and says whether
// the tablet is online; the tablet needs no snapshot, only these messages.
const { TICKET_UPDATED, COUNTER_UPDATED, SITE_UPDATED } = boot.live.names;
const FINISHED = "finished"; // the action of a ticket.updated that ends a service
const handlers = {
  // The clerk signing in or out at this counter shows on the idle screen at once.
  [COUNTER_UPDATED]: (payload) => {
    const counter = payload && payload.counter;
    if (!counter || counter.number !== counterNumber) return;
    boot.clerk = counter.clerk || null;
    if (counter.name) boot.counter.name = counter.name;
    renderIdle();
  },
  // Settings changed (rating scale, counter name): reload when nobody is rating.
  [SITE_UPDATED]: () => {
    reloadWhenIdle = true;
    if (document.body.dataset.screen === "idle") window.location.reload();
  },
  [TICKET_UPDATED]: (payload) => {
    const ticket = payload && payload.ticket;
    if (!ticket || payload.action !== FINISHED || ticket.counter !== counterNumber) return;
    ask(ticket);
  },
};
connectLive({
  live: boot.live,
  auth: { token: boot.token },
  onState: () => {},
  onMessage: (name, payload) => (handlers[name] || (() => {}))(payload),
  onConnection: (connected) => {
    $("offline").hidden = connected;
    document.body.dataset.connected = String(connected);
  },
});
