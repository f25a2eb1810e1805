// The citizen's ticket on the phone: its number and where it stands, live.
//
// The page starts from the snapshot the server drew it with, then follows the ticket's own
// Socket.IO room (its changes) and the site's waiting counts. Between exact snapshots the
// people ahead are counted down as the service's line gets shorter; near the turn, and every
// few minutes, the exact snapshot is read again. When no connection can be made the same
// snapshot is polled. Everything is written with textContent: nothing typed anywhere
// becomes markup.

import { connectLive } from "/static/live/connect.js";
import { Text } from "/kiosk/static/kiosk/text.js";

const boot = JSON.parse(document.getElementById("phone-data").textContent);
const ST = boot.live.statuses; // the ticket statuses' names, from the server
const table = { text: boot.texts, priorities: boot.priorities };
const text = new Text({ vi: table, en: table }, boot.lang);
const $ = (id) => document.getElementById(id);

const RESYNC_MS = 150000; // exact position again every 2.5 minutes (± a third) while waiting
const OFFLINE_GRACE_MS = 5000;
const ALERT_VIBRATION = [500, 200, 500, 200, 900];

const state = {
  view: boot.view,
  connected: false,
  everConnected: false,
  polling: false,
  alerted: null, // which call was already announced (called_at and recall count)
  audio: null,
  live: null,
  score: null,
  reasons: new Set(),
  gone: false,
  clockOffset: 0,
};

// --- what the card says ---------------------------------------------------------------

function setText(id, value) {
  const el = $(id);
  el.textContent = value || "";
  el.hidden = !value;
}

function formatDay(iso) {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

function waitText(seconds) {
  if (seconds === null || seconds === undefined) return text.t("no_counter");
  return text.t("estimated_wait", { duration: text.duration(seconds) });
}

function transferText(view) {
  if (view.action !== "transferred") return "";
  const t = view.ticket;
  if (t.target_counter) return text.t("transferred_counter", { counter: t.target_counter });
  return text.t("transferred_service", { service: t.service_name });
}

function waitingLines(view) {
  const t = view.ticket;
  const ahead = t.people_ahead;
  const headline = ahead === 0 ? text.t("next_up") : text.t("people_ahead", { n: ahead });
  const here = view.waiting ? view.waiting[t.service] : undefined;
  const more = transferText(view) || (here !== undefined ? text.t("waiting_here", { n: here }) : "");
  if (view.action === "requeued" && !transferText(view)) {
    return [headline, text.t("requeued"), waitText(t.estimated_wait_s)];
  }
  return [headline, waitText(t.estimated_wait_s), more];
}

function lines(view) {
  const t = view.ticket;
  switch (t.status) {
    case ST.WAITING:
      return waitingLines(view);
    case ST.REMOTE: {
      const arrival = view.check_in || {};
      const queue = arrival.waiting ?? 0;
      return [
        text.t("remote"),
        text.t("remote_queue", { n: queue }),
        arrival.estimated_wait_s === null || arrival.estimated_wait_s === undefined
          ? text.t("no_counter")
          : text.t("remote_wait", { duration: text.duration(arrival.estimated_wait_s) }),
      ];
    }
    case ST.CALLED:
      return [
        text.t("called", { counter: t.counter }),
        t.recall_count > 0 ? text.t("recalled", { n: t.recall_count }) : "",
        "",
      ];
    case ST.SERVING:
      return [text.t("serving", { counter: t.counter }), "", ""];
    case ST.DONE:
      return [text.t("done"), "", ""];
    case ST.NO_SHOW:
      return [
        t.counter
          ? text.t("no_show", { counter: t.counter })
          : text.t("no_show_no_counter"),
        "",
        "",
      ];
    case ST.CANCELLED:
      return [text.t("cancelled"), "", ""];
    default:
      return [t.status, "", ""];
  }
}

function soon(view) {
  const t = view.ticket;
  return (
    view.today &&
    t.status === ST.WAITING &&
    typeof t.people_ahead === "number" &&
    t.people_ahead <= view.soon_threshold
  );
}

function render() {
  const view = state.view;
  const t = view.ticket;
  const card = $("card");
  if (state.gone) {
    card.dataset.status = "not_found";
    setText("headline", text.t("not_found"));
    for (const id of ["detail", "detail-more", "soon", "priority"]) setText(id, "");
    $("check-in").hidden = true;
    $("rating").hidden = true;
    return;
  }
  $("number").textContent = t.number;
  $("service").textContent = t.service_name;
  setText("priority", t.priority ? text.t("priority", { label: text.priority(t.priority) }) : "");
  card.dataset.status = view.today ? t.status : "past";
  card.dataset.soon = String(soon(view));
  let [headline, detail, more] = lines(view);
  if (!view.today) {
    // Yesterday's ticket: what became of it, under the day it was for.
    more = headline;
    headline = text.t("past_day", { day: formatDay(t.business_day) });
    detail = "";
  }
  setText("headline", headline);
  setText("detail", detail);
  setText("detail-more", more);
  setText("soon", soon(view) ? text.t("soon") : "");
  const arrival = view.check_in;
  $("check-in").hidden = !(view.today && t.status === ST.REMOTE && arrival);
  $("check-in-code").textContent = arrival ? arrival.code : "";
  renderRating();
  document.title = t.status === ST.CALLED ? `▶ ${t.number} → ${t.counter}` : `${t.number} — ${view.site.name}`;
  document.body.dataset.ready = "true";
}

// --- the call: vibration, a sound where the phone lets the page play one, a notification ---

function unlockAudio() {
  if (state.audio || !window.AudioContext) return;
  try {
    state.audio = new AudioContext();
  } catch (err) {
    state.audio = null;
  }
}

function beep() {
  const ctx = state.audio;
  if (!ctx) return;
  if (ctx.state === "suspended") ctx.resume();
  const start = ctx.currentTime + 0.05;
  [0, 0.35, 0.7].forEach((offset, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = i === 2 ? 1046 : 880;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.5, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.32);
  });
}

async function notify(view) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const title = text.t("notify_title", { number: view.ticket.number });
  const options = { body: text.t("called", { counter: view.ticket.counter }), tag: "xephang-call", renotify: true };
  try {
    const registration = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration());
    if (registration) await registration.showNotification(title, options);
    else new Notification(title, options);
  } catch (err) {
    // a browser without notifications from pages: the screen and the sound say it
  }
}

function announce(view) {
  const t = view.ticket;
  if (t.status !== ST.CALLED || !view.today) return;
  const key = `${t.called_at}/${t.recall_count}`;
  if (state.alerted === key) return;
  const first = state.alerted === null && state.fromBoot;
  state.alerted = key;
  if (first) return; // already called when the page was opened: nothing new to ring for
  if (navigator.vibrate) navigator.vibrate(ALERT_VIBRATION);
  beep();
  notify(view);
}

function setupButtons() {
  const notifyButton = $("notify");
  if ("Notification" in window && Notification.permission === "default") {
    notifyButton.textContent = text.t("notify_button");
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", async () => {
      unlockAudio();
      let answer = "denied";
      try {
        answer = await Notification.requestPermission();
      } catch (err) {
        answer = "denied";
      }
      if (answer === "granted" && navigator.serviceWorker && window.isSecureContext) {
        navigator.serviceWorker.register(boot.worker_url, { scope: boot.worker_scope }).catch(() => {});
      }
      notifyButton.textContent = text.t(answer === "granted" ? "notify_on" : "notify_denied");
      notifyButton.disabled = true;
    });
  }
  const soundButton = $("sound");
  if (window.AudioContext) {
    soundButton.textContent = text.t("sound_button");
    soundButton.hidden = false;
    soundButton.addEventListener("click", () => {
      unlockAudio();
      beep();
      soundButton.textContent = text.t("sound_on");
      soundButton.disabled = true;
    });
  }
  // Any first touch lets the page play the call's sound later (the browsers' autoplay rule).
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
}

// --- rating from the phone ----------------------------------------------------------------

// The server's clock, as of the last snapshot: a phone's own clock may be minutes off.
function serverNow() {
  return Date.now() + state.clockOffset;
}

function noteServerTime(view) {
  const now = Date.parse(view.now || "");
  if (Number.isFinite(now)) state.clockOffset = now - Date.now();
}

function ratingOpen() {
  const view = state.view;
  const r = view.rating;
  if (!r || !r.enabled || r.rated || !view.today || view.ticket.status !== ST.DONE) return false;
  const finished = Date.parse(view.ticket.finished_at || "");
  return Number.isFinite(finished) && serverNow() - finished < r.window_s * 1000;
}

function renderRating() {
  const box = $("rating");
  const r = state.view.rating;
  if (r && r.rated && state.view.ticket.status === ST.DONE) {
    box.hidden = false;
    $("rating-question").hidden = true;
    $("levels").hidden = true;
    $("reasons").hidden = true;
    setText("rating-message", text.t("rated"));
    return;
  }
  box.hidden = !ratingOpen();
  if (box.hidden || $("levels").childElementCount) return;
  setText("rating-question", text.t("rate_question"));
  for (const level of boot.levels) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `level${level.low ? " level-low" : ""}`;
    button.dataset.score = String(level.score);
    button.textContent = level.label;
    button.addEventListener("click", () => chooseLevel(level));
    $("levels").append(button);
  }
  $("reasons-question").textContent = text.t("reasons_question");
  for (const reason of boot.reasons) {
    const label = document.createElement("label");
    label.className = "reason";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = reason.code;
    box.addEventListener("change", () => {
      if (box.checked) state.reasons.add(reason.code);
      else state.reasons.delete(reason.code);
    });
    label.append(box, document.createTextNode(` ${reason.label}`));
    $("reason-list").append(label);
  }
  $("rating-send").textContent = text.t("send");
  $("rating-send").addEventListener("click", () => sendRating());
}

function chooseLevel(level) {
  state.score = level.score;
  for (const button of $("levels").children) {
    button.setAttribute("aria-pressed", String(button.dataset.score === String(level.score)));
  }
  if (level.low) $("reasons").hidden = false;
  else sendRating();
}

async function sendRating() {
  if (state.score === null) return;
  const body = { score: state.score, reasons: [...state.reasons] };
  let response;
  try {
    response = await fetch(boot.rating_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": boot.csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    setText("rating-message", text.t("rate_failed"));
    return;
  }
  if (response.status === 201 || response.status === 409) {
    state.view.rating.rated = true; // 409: rated meanwhile (the tablet, or a second tap)
    renderRating();
    return;
  }
  let problem = null;
  try {
    problem = await response.json();
  } catch (err) {
    problem = null;
  }
  setText("rating-message", (problem && problem.detail) || text.t("rate_failed"));
}

// --- live ------------------------------------------------------------------------------

function applyState(view) {
  noteServerTime(view);
  state.view = view;
  render();
  announce(view);
}

function countDown(waiting) {
  // The service's line got shorter: most likely from its front. Count down, exactly later.
  const view = state.view;
  const t = view.ticket;
  const before = view.waiting ? view.waiting[t.service] : undefined;
  const after = waiting[t.service];
  view.waiting = waiting;
  if (t.status !== ST.WAITING || typeof before !== "number" || typeof after !== "number") return;
  if (after < before && typeof t.people_ahead === "number" && t.people_ahead > 0) {
    const gone = Math.min(before - after, t.people_ahead);
    const perPerson = t.estimated_wait_s !== null ? t.estimated_wait_s / t.people_ahead : null;
    t.people_ahead -= gone;
    t.position = t.people_ahead + 1;
    if (perPerson !== null) t.estimated_wait_s = Math.round(perPerson * t.people_ahead);
  }
  if (after !== before && t.people_ahead <= view.soon_threshold + 2 && state.live) state.live.sync();
}

function applyMessage(name, message) {
  const view = state.view;
  if (name === boot.live.names.TICKET_UPDATED) {
    if (message.action === "rated") {
      view.rating.rated = true;
    } else if (message.ticket) {
      view.ticket = message.ticket;
      view.action = message.action;
      if (message.ticket.status !== ST.REMOTE) view.check_in = null;
      if (message.waiting) view.waiting = message.waiting;
    }
  } else if (name === boot.live.names.WAITING && message.waiting) {
    countDown(message.waiting);
    if (view.check_in) view.check_in.waiting = message.waiting[view.ticket.service] ?? 0;
  }
  render();
  announce(view);
}

function showConnection() {
  const line = $("connection");
  if (state.gone) {
    line.hidden = true;
    return;
  }
  const starting = !state.everConnected && Date.now() - state.startedAt < OFFLINE_GRACE_MS;
  if (state.connected || starting) {
    line.hidden = true;
  } else {
    line.textContent = text.t(state.polling ? "polling" : "offline");
    line.hidden = false;
  }
  document.body.dataset.connected = String(state.connected);
}

// Through the province hub (the center's server is not on the internet) there is no
// Socket.IO to the center: the page reads its snapshot every poll_ms instead.
function pollOnly() {
  const read = async () => {
    if (state.gone) return;
    try {
      const response = await fetch(boot.live_url, { cache: "no-store", credentials: "same-origin" });
      state.polling = response.ok;
      if (response.ok) {
        state.everConnected = true;
        applyState(await response.json());
      } else if (response.status === 404) {
        state.gone = true;
        render();
      }
    } catch (err) {
      state.polling = false; // offline: the next round tries again
    }
    showConnection();
  };
  read();
  setInterval(read, boot.poll_ms);
}

function start() {
  noteServerTime(state.view);
  state.startedAt = Date.now();
  state.fromBoot = true;
  render();
  announce(state.view);
  state.fromBoot = false;
  setupButtons();
  setTimeout(showConnection, OFFLINE_GRACE_MS);
  if (boot.relayed) {
    pollOnly();
    return;
  }
  if (typeof window.io !== "function") return;
  state.live = connectLive({
    live: boot.live,
    auth: { tracking_token: boot.token },
    poll: { url: boot.live_url, ms: boot.poll_ms },
    onState: (view) => {
      state.polling = !state.connected;
      applyState(view);
      showConnection();
    },
    onMessage: applyMessage,
    onConnection: (connected) => {
      state.connected = connected;
      if (connected) {
        state.everConnected = true;
        state.polling = false;
      }
      showConnection();
    },
    onRefused: (problem) => {
      if (problem && (problem.code === "ticket_not_found" || problem.code === "not_found")) {
        state.gone = true;
        render();
        showConnection();
        return true;
      }
      return false;
    },
  });
  // The exact position now and then, spread so that phones do not all ask at once.
  const resync = () => {
    if (state.view.ticket.status === ST.WAITING || state.view.ticket.status === ST.REMOTE) state.live.sync();
    setTimeout(resync, RESYNC_MS * (0.67 + Math.random() * 0.67));
  };
  setTimeout(resync, RESYNC_MS * (0.67 + Math.random() * 0.67));
}

start();
