// The clerk's workstation: the current ticket with its timer, the big buttons and their
// one-letter shortcuts, the counter's waiting list and today's no-shows, kept live over
// Socket.IO. Every change goes through the REST API; a refusal shows the API's Vietnamese
// `detail` in the alert area.
//
// Names and numbers are written with textContent only: a name containing HTML stays text.

import { makeApi } from "./api.js";
import { newKey } from "/static/keys/idempotency.js";
import { connectLive } from "/static/live/connect.js";
import { elapsedText, fill, timeOfDay, waitedText } from "./format.js";

const boot = JSON.parse(document.getElementById("xephang-boot").textContent);
const ST = boot.live.statuses; // the ticket statuses' names, from the server
const texts = boot.texts;
const siteCode = boot.site.code;
const counterNumber = boot.counter.number;
const COUNTER = `/counters/${counterNumber}`;
const REFRESH_DEBOUNCE_MS = 300;
const NOTICE_MS = 6000;
const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const api = makeApi({
  base: `/api/v1/sites/${encodeURIComponent(siteCode)}`,
  csrf: (csrfMeta && csrfMeta.content) || boot.csrf,
  texts,
});

const $ = (id) => document.getElementById(id);

const state = {
  counter: boot.queue.counter,
  waiting: boot.queue.waiting,
  waitingTotal: boot.queue.waiting_total,
  noShow: boot.queue.no_show,
};
let offsetMs = Date.parse(boot.now) - Date.now(); // server clock minus this computer's
let busy = false; // one request at a time: a second press while one is on its way does nothing
let mode = "idle"; // "finish" while the dossier field is open, "transfer" while the dialog is
let lost = false; // another clerk took this counter, or this clerk left it elsewhere
let closed = false; // an admin deactivated this counter
// Where a ticket can be sent: read again when an admin changes the site's services or counters.
const targets = { services: boot.services, counters: boot.counters };

const serverNow = () => Date.now() + offsetMs;

// --- messages -----------------------------------------------------------------------------

let noticeTimer = null;

function showAlert(text) {
  const alert = $("alert");
  alert.textContent = text;
  alert.hidden = !text;
  document.body.dataset.alert = text ? "true" : "false";
}

function notice(text) {
  clearTimeout(noticeTimer);
  $("notice").textContent = text;
  noticeTimer = setTimeout(() => {
    $("notice").textContent = "";
  }, NOTICE_MS);
}

// --- rendering ----------------------------------------------------------------------------

function current() {
  return state.counter ? state.counter.current : null;
}

function priorityLabel(code) {
  return code ? boot.priorities[code] || code : "";
}

function renderHeader() {
  const clerk = state.counter && state.counter.clerk;
  $("clerk-name").textContent = clerk ? clerk.name : texts.no_clerk;
  const paused = isPaused();
  $("paused-banner").hidden = !paused;
  $("paused-banner").textContent = paused ? texts.paused : "";
  document.body.dataset.paused = String(paused);
  $("lost-banner").hidden = !lost;
  $("lost-text").textContent = lost ? (closed ? texts.counter_closed : texts.lost_counter) : "";
}

function isPaused() {
  return Boolean(state.counter && state.counter.status === boot.live.counter_statuses.PAUSED);
}

function renderCurrent() {
  const ticket = current();
  const box = $("current");
  box.dataset.status = ticket ? ticket.status : "none";
  box.dataset.ticketId = ticket ? String(ticket.id) : "";
  const priority = $("current-priority");
  const recalls = $("current-recalls");
  if (!ticket) {
    $("current-status").textContent = texts.no_ticket;
    $("current-number").textContent = "—";
    $("current-service").textContent = texts.no_ticket_hint;
    priority.hidden = true;
    recalls.hidden = true;
  } else {
    $("current-status").textContent =
      ticket.status === ST.SERVING ? texts.status_serving : texts.status_called;
    $("current-number").textContent = ticket.number;
    $("current-service").textContent = ticket.service_name;
    priority.hidden = !ticket.priority;
    priority.textContent = ticket.priority
      ? `${texts.priority}: ${priorityLabel(ticket.priority)}`
      : "";
    recalls.hidden = !ticket.recall_count;
    recalls.textContent = ticket.recall_count ? fill(texts.recalls, { n: ticket.recall_count }) : "";
  }
  tick();
}

function setEnabled(id, enabled) {
  $(id).disabled = !enabled;
}

function renderButtons() {
  const ticket = current();
  const off = busy || lost || mode !== "idle";
  const paused = isPaused();
  const called = Boolean(ticket && ticket.status === ST.CALLED);
  setEnabled("btn-call-next", !off && !paused);
  setEnabled("btn-recall", !off && called);
  setEnabled("btn-start", !off && called);
  setEnabled("btn-finish", !off && Boolean(ticket));
  setEnabled("btn-no-show", !off && called);
  setEnabled("btn-transfer", !off && Boolean(ticket));
  setEnabled("btn-pause", !off);
  $("pause-label").textContent = paused ? texts.resume : texts.pause;
  $("btn-pause").dataset.paused = String(paused);
  $("finish-confirm").disabled = busy;
  $("transfer-confirm").disabled = busy;
  for (const button of document.querySelectorAll("#waiting-rows button")) {
    button.disabled = busy || lost || paused || mode !== "idle";
  }
  for (const button of document.querySelectorAll("#no-show-rows button")) {
    button.disabled = busy || lost || mode !== "idle";
  }
  document.body.dataset.busy = String(busy);
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function renderWaiting() {
  const rows = state.waiting.map((ticket) => {
    const tr = document.createElement("tr");
    tr.dataset.ticketId = String(ticket.id);
    tr.dataset.number = ticket.number;
    if (ticket.priority) tr.classList.add("priority");
    tr.append(cell(ticket.number, "number"));
    tr.append(cell(ticket.service_name, "service"));
    const priority = cell("", "priority-cell");
    if (ticket.priority) {
      const badge = document.createElement("span");
      badge.className = "priority-badge small";
      badge.textContent = priorityLabel(ticket.priority);
      priority.append(badge);
    }
    tr.append(priority);
    const waited = cell("", "waited");
    waited.dataset.issuedAt = ticket.issued_at;
    tr.append(waited);
    const actions = document.createElement("td");
    actions.className = "row-actions";
    const call = document.createElement("button");
    call.type = "button";
    call.className = "row-button call";
    call.textContent = texts.call;
    call.setAttribute("aria-label", `${texts.call} ${ticket.number}`);
    call.addEventListener("click", () => callTicket(ticket, call));
    actions.append(call);
    tr.append(actions);
    return tr;
  });
  $("waiting-rows").replaceChildren(...rows);
  $("waiting-total").textContent = String(state.waitingTotal);
  const shown = state.waiting.length;
  $("waiting-shown").textContent =
    shown < state.waitingTotal ? fill(texts.shown_of, { shown, total: state.waitingTotal }) : "";
  $("waiting-empty").hidden = shown > 0;
  $("waiting-empty").textContent = shown ? "" : texts.waiting_empty;
  $("waiting-table").hidden = shown === 0;
  tickWaited();
}

function renderNoShow() {
  const rows = state.noShow.map((ticket) => {
    const tr = document.createElement("tr");
    tr.dataset.ticketId = String(ticket.id);
    tr.dataset.number = ticket.number;
    tr.append(cell(ticket.number, "number"));
    tr.append(cell(ticket.service_name, "service"));
    tr.append(cell(ticket.called_at ? timeOfDay(ticket.called_at, boot.site.timezone) : "", "when"));
    const actions = document.createElement("td");
    actions.className = "row-actions";
    for (const [position, text] of [
      ["front", texts.requeue_front],
      ["back", texts.requeue_back],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `row-button requeue-${position}`;
      button.dataset.position = position;
      button.textContent = text;
      button.setAttribute("aria-label", `${texts.requeue} — ${text}: ${ticket.number}`);
      button.addEventListener("click", () => requeue(ticket, position, button));
      actions.append(button);
    }
    tr.append(actions);
    return tr;
  });
  $("no-show-rows").replaceChildren(...rows);
  $("no-show-total").textContent = String(state.noShow.length);
  $("no-show-empty").hidden = state.noShow.length > 0;
  $("no-show-empty").textContent = state.noShow.length ? "" : texts.no_show_empty;
  $("no-show-table").hidden = state.noShow.length === 0;
}

function renderAll() {
  renderHeader();
  renderCurrent();
  renderWaiting();
  renderNoShow();
  renderButtons();
}

function tick() {
  const ticket = current();
  let text = "";
  if (ticket && ticket.status === ST.SERVING && ticket.started_at) {
    const elapsed = elapsedText(serverNow() - Date.parse(ticket.started_at), texts);
    text = fill(texts.timer_serving, { elapsed });
  } else if (ticket && ticket.called_at) {
    const elapsed = elapsedText(serverNow() - Date.parse(ticket.called_at), texts);
    text = fill(texts.timer_called, { elapsed });
  }
  $("timer").textContent = text;
}

function tickWaited() {
  const now = serverNow();
  for (const td of document.querySelectorAll("#waiting-rows td.waited")) {
    td.textContent = waitedText(now - Date.parse(td.dataset.issuedAt), texts);
  }
}

// --- reading the queue --------------------------------------------------------------------

let refreshTimer = null;
let refreshGeneration = 0; // an answer to an older read never overwrites a newer one

function applyCounter(counter) {
  if (!counter || counter.number !== counterNumber) return;
  state.counter = counter;
  if (boot.me.role === "clerk") {
    lost = !counter.clerk || counter.clerk.id !== boot.me.id;
  }
}

function applyQueue(queue) {
  applyCounter(queue.counter);
  state.waiting = queue.waiting;
  state.waitingTotal = queue.waiting_total;
  state.noShow = queue.no_show;
}

async function refresh() {
  refreshTimer = null;
  const generation = ++refreshGeneration;
  const result = await api.get(`${COUNTER}/queue`);
  if (generation !== refreshGeneration) return;
  if (result.ok) {
    if (closed) {
      closed = false; // active again
      if (boot.me.role !== "clerk") lost = false; // a clerk's is decided by applyQueue
    }
    applyQueue(result.data);
  } else if ([401, 403].includes(result.problem.status)) {
    lost = true;
  } else if (result.problem.code === "counter_not_found") {
    // Deactivated: nothing can be called here any more.
    closed = true;
    lost = true;
    applyQueue({ counter: null, waiting: [], waiting_total: 0, no_show: [] });
    state.counter = null;
  }
  renderAll();
  document.body.dataset.refreshed = String(generation);
}

function refreshSoon(delay = REFRESH_DEBOUNCE_MS) {
  if (delay === 0) {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    refreshGeneration += 1; // reads already on their way may predate the change just made
    refresh();
    return;
  }
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, delay);
}

// --- actions ------------------------------------------------------------------------------

// options.key: the press's Idempotency-Key (calls), kept for every retry of that press.
async function act(button, path, body, onDone, options = {}) {
  if (busy) return false;
  busy = true;
  if (button) button.setAttribute("aria-busy", "true");
  const label = button && button.querySelector(".label");
  const before = label ? label.textContent : null;
  if (label) label.textContent = texts.sending;
  renderButtons();
  const result = await api.post(path, body, options);
  busy = false;
  if (button) button.removeAttribute("aria-busy");
  if (label) label.textContent = before;
  if (result.ok) {
    showAlert("");
    onDone(result.data);
  } else {
    showAlert(result.problem.detail);
    if (result.problem.code === "counter_sign_in_required") lost = true;
  }
  renderAll();
  refreshSoon(0);
  return result.ok;
}

function holdTicket(ticket) {
  if (!state.counter) return;
  state.counter = { ...state.counter, current: boot.live.at_counter.includes(ticket.status) ? ticket : null };
}

// Each press is one call: a fresh key per press, the same key when that press is sent again.
function callNext() {
  confirmCalled(() =>
    act(
      $("btn-call-next"),
      `${COUNTER}/call-next`,
      {},
      (ticket) => {
        holdTicket(ticket);
        notice(fill(texts.done_called, { number: ticket.number }));
      },
      { key: newKey() },
    ),
  );
}

function callTicket(ticket, button) {
  confirmCalled(() =>
    act(
      button,
      `${COUNTER}/call`,
      { ticket_id: ticket.id },
      (called) => {
        holdTicket(called);
        notice(fill(texts.done_called, { number: called.number }));
      },
      { key: newKey() },
    ),
  );
}

// Calling while the current citizen was called but never started ends that ticket without
// serving it (a no-show, or back at the front: the site's setting). A second G pressed by
// mistake a moment after the first must not do that unasked, so the page asks first; the
// usual path (started, or nothing at the counter) stays one press.
const nextDialog = $("next-dialog");
let afterConfirm = null;

function confirmCalled(call) {
  const ticket = current();
  if (!ticket || ticket.status !== "called") {
    call();
    return;
  }
  afterConfirm = call;
  mode = "confirm";
  $("next-title").textContent = fill(texts.next_title, { number: ticket.number });
  $("next-text").textContent = fill(
    boot.site.unstarted_on_next === "requeue" ? texts.next_requeue : texts.next_no_show,
    { number: ticket.number },
  );
  renderButtons();
  nextDialog.showModal();
  $("next-cancel").focus(); // Enter on the first key pressed by mistake cancels
}

function nextClosed() {
  mode = "idle";
  afterConfirm = null;
  if (nextDialog.contains(document.activeElement)) document.activeElement.blur();
  renderButtons();
}

// Esc or "Huỷ": back to the shortcuts at once, not when the dialog's "close" event comes a
// moment later (a G pressed in between would otherwise be dropped).
function cancelNext() {
  if (nextDialog.open) nextDialog.close();
  nextClosed();
}

function confirmNext(event) {
  if (event) event.preventDefault();
  const call = afterConfirm;
  if (nextDialog.open) nextDialog.close();
  nextClosed();
  if (call) call();
}

function onCurrent(action, doneText) {
  const ticket = current();
  if (!ticket) return;
  act($(`btn-${action}`), `${COUNTER}/${action}`, { ticket_id: ticket.id }, (changed) => {
    holdTicket(changed);
    notice(fill(doneText, { number: changed.number }));
  });
}

function togglePause() {
  const paused = isPaused();
  act($("btn-pause"), `${COUNTER}/${paused ? "resume" : "pause"}`, {}, (data) => {
    applyCounter(data.counter);
    notice(paused ? texts.done_resumed : texts.done_paused);
  });
}

function requeue(ticket, position, button) {
  act(button, `/tickets/${ticket.id}/requeue`, { position }, (changed) => {
    notice(fill(texts.done_requeued, { number: changed.number }));
  });
}

// Hoàn thành: an inline field for the dossier code; Enter confirms, Esc cancels.
function openFinish() {
  if (!current()) return;
  mode = "finish";
  $("finish-form").hidden = false;
  $("dossier").value = "";
  renderButtons();
  $("dossier").focus();
}

function closeFinish() {
  mode = "idle";
  // Give the keys back to the shortcuts: a hidden field could otherwise keep the focus.
  $("dossier").blur();
  $("finish-form").hidden = true;
  renderButtons();
}

async function confirmFinish(event) {
  event.preventDefault();
  const ticket = current();
  if (!ticket || busy) return;
  const code = $("dossier").value.trim();
  const body = { ticket_id: ticket.id };
  if (code) body.dossier_code = code;
  mode = "idle"; // lets act() run; the field stays open until the answer
  const ok = await act($("btn-finish"), `${COUNTER}/finish`, body, (done) => {
    holdTicket(done);
    notice(fill(texts.done_finished, { number: done.number }));
  });
  if (ok) {
    closeFinish();
  } else {
    mode = "finish";
    renderButtons();
    $("dossier").focus();
  }
}

// Chuyển: a dialog to send the ticket to a service or another counter, front or back.
const dialog = $("transfer-dialog");

function fillTransferChoices() {
  const services = $("transfer-service");
  const chosenService = services.value;
  const chosenCounter = $("transfer-counter").value;
  services.replaceChildren(
    ...targets.services.map((service) => {
      const option = document.createElement("option");
      option.value = service.code;
      option.textContent = service.name;
      return option;
    }),
  );
  const counters = $("transfer-counter");
  counters.replaceChildren(
    ...targets.counters.map((counter) => {
      const option = document.createElement("option");
      option.value = String(counter.number);
      option.textContent = counter.name && counter.name !== fill(texts.counter, { n: counter.number })
        ? `${fill(texts.counter, { n: counter.number })} — ${counter.name}`
        : fill(texts.counter, { n: counter.number });
      return option;
    }),
  );
  const counterChoice = dialog.querySelector('input[name="kind"][value="counter"]');
  counterChoice.disabled = targets.counters.length === 0;
  if (counterChoice.disabled && counterChoice.checked) {
    dialog.querySelector('input[name="kind"][value="service"]').checked = true;
  }
  // What was chosen stays chosen when it is still there (the dialog may be open).
  if (targets.services.some((service) => service.code === chosenService)) services.value = chosenService;
  if (targets.counters.some((counter) => String(counter.number) === chosenCounter)) {
    counters.value = chosenCounter;
  }
  if (dialog.open) syncTransferKind();
}

let targetsGeneration = 0;

async function refreshTargets() {
  const generation = ++targetsGeneration;
  let data = null;
  try {
    const response = await fetch(boot.targets_url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok) data = await response.json();
  } catch (_error) {
    data = null; // offline: the next snapshot after reconnecting reads them again
  }
  if (generation !== targetsGeneration || !data) return;
  targets.services = data.services;
  targets.counters = data.counters;
  fillTransferChoices();
  document.body.dataset.targets = String(generation);
}

function transferKind() {
  return dialog.querySelector('input[name="kind"]:checked').value;
}

function syncTransferKind() {
  const kind = transferKind();
  $("transfer-service").disabled = kind !== "service";
  $("transfer-counter").disabled = kind !== "counter";
}

function openTransfer() {
  const ticket = current();
  if (!ticket) return;
  mode = "transfer";
  $("transfer-number").textContent = ticket.number;
  $("transfer-error").hidden = true;
  const other = targets.services.find((service) => service.code !== ticket.service);
  if (other) $("transfer-service").value = other.code;
  syncTransferKind();
  renderButtons();
  dialog.showModal();
  (transferKind() === "service" ? $("transfer-service") : $("transfer-counter")).focus();
}

// Back to the shortcuts at once: the dialog's "close" event comes a moment later, and a
// select left with the focus would swallow the next key.
function transferClosed() {
  mode = "idle";
  if (dialog.contains(document.activeElement)) document.activeElement.blur();
  renderButtons();
}

function closeTransfer() {
  if (dialog.open) dialog.close();
  transferClosed();
}

async function confirmTransfer(event) {
  if (event) event.preventDefault();
  const ticket = current();
  if (!ticket || busy) return;
  const position = dialog.querySelector('input[name="position"]:checked').value;
  const body = { ticket_id: ticket.id, position };
  if (transferKind() === "service") {
    if (!$("transfer-service").value) return transferError(texts.transfer_pick);
    body.to_service = $("transfer-service").value;
  } else {
    if (!$("transfer-counter").value) return transferError(texts.transfer_pick);
    body.to_counter = Number($("transfer-counter").value);
  }
  mode = "idle";
  const ok = await act($("btn-transfer"), `${COUNTER}/transfer`, body, (moved) => {
    holdTicket(moved);
    notice(fill(texts.done_transferred, { number: moved.number }));
  });
  if (ok) {
    closeTransfer();
  } else {
    mode = "transfer";
    transferError($("alert").textContent);
    renderButtons();
  }
}

function transferError(text) {
  $("transfer-error").textContent = text;
  $("transfer-error").hidden = !text;
}

// --- keyboard -----------------------------------------------------------------------------

const SHORTCUTS = {
  g: "btn-call-next",
  l: "btn-recall",
  b: "btn-start",
  h: "btn-finish",
  v: "btn-no-show",
  c: "btn-transfer",
  t: "btn-pause",
};

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function shortcutLetter(event) {
  // The physical key first: the letter still works with another keyboard layout.
  if (/^Key[A-Z]$/.test(event.code || "")) return event.code.slice(3).toLowerCase();
  return (event.key || "").toLowerCase();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (mode !== "idle" || dialog.open || nextDialog.open || typing(event.target)) return;
  if (event.key === "Escape") {
    showAlert("");
    return;
  }
  const id = SHORTCUTS[shortcutLetter(event)];
  if (!id) return;
  event.preventDefault();
  if (event.repeat) return; // a key held down sends once
  const button = $(id);
  if (!button.disabled) {
    button.click();
  } else if (!busy && !lost) {
    // Say why nothing happened instead of ignoring the key.
    if (id === "btn-call-next" && isPaused()) showAlert(texts.why_paused);
    else if (id !== "btn-call-next" && id !== "btn-pause" && !current()) showAlert(texts.why_no_ticket);
  }
});

$("dossier").addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    closeFinish();
  }
});

dialog.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    closeTransfer();
    return;
  }
  if (event.key === "Enter" && !(event.target instanceof HTMLButtonElement)) {
    event.preventDefault();
    confirmTransfer();
  }
});
dialog.addEventListener("close", transferClosed);
nextDialog.addEventListener("close", () => {
  if (mode === "confirm") nextClosed();
});
nextDialog.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    cancelNext();
  }
});

// --- wiring -------------------------------------------------------------------------------

$("btn-call-next").addEventListener("click", callNext);
$("btn-recall").addEventListener("click", () => onCurrent("recall", texts.done_recalled));
$("btn-start").addEventListener("click", () => onCurrent("start", texts.done_started));
$("btn-finish").addEventListener("click", openFinish);
$("btn-no-show").addEventListener("click", () => onCurrent("no-show", texts.done_no_show));
$("btn-transfer").addEventListener("click", openTransfer);
$("btn-pause").addEventListener("click", togglePause);
$("finish-form").addEventListener("submit", confirmFinish);
$("finish-cancel").addEventListener("click", closeFinish);
$("transfer-form").addEventListener("submit", confirmTransfer);
$("next-form").addEventListener("submit", confirmNext);
$("next-cancel").addEventListener("click", cancelNext);
$("transfer-cancel").addEventListener("click", closeTransfer);
for (const radio of dialog.querySelectorAll('input[name="kind"]')) {
  radio.addEventListener("change", syncTransferKind);
}
$("alert").addEventListener("click", () => showAlert(""));

fillTransferChoices();
if (boot.me.role === "clerk") applyCounter(state.counter);
renderAll();
setInterval(() => {
  tick();
  tickWaited();
}, 1000);

function setConnection(connected) {
  const badge = $("connection");
  badge.dataset.state = connected ? "online" : "offline";
  badge.textContent = connected ? texts.connected : texts.offline;
  document.body.dataset.connected = String(connected);
}

// The clerk's own figures of today (server.reports.clerk_today), read again after changes.
let myDayTimer = null;
async function readMyDay() {
  myDayTimer = null;
  const result = await api.get("/me/today");
  if (!result.ok) return;
  const f = result.data;
  $("my-served").textContent = String(f.served);
  $("my-service").textContent = f.service_s.mean === null ? "–" : (f.service_s.mean / 60).toFixed(1);
  const index = f.ratings.satisfaction_index;
  $("my-satisfaction").textContent = index === null ? "–" : `${Math.round(index * 100)}%`;
  $("my-ratings").textContent = String(f.ratings.count);
  document.body.dataset.myDay = String(f.served);
}
function myDaySoon() {
  if (myDayTimer === null) myDayTimer = setTimeout(readMyDay, 1000);
}

// Events and snapshots only say that something changed: the queue is read again, so a late
// event can never put back a state older than the answer to the clerk's last press.
connectLive({
  live: boot.live,
  auth: { site: siteCode },
  onConnection: setConnection,
  onState: (snapshot) => {
    if (snapshot.now) offsetMs = Date.parse(snapshot.now) - Date.now();
    refreshSoon(0); // connected again: whatever happened meanwhile is read anew
    refreshTargets();
  },
  onMessage: (name) => {
    refreshSoon(); // site.updated too: the counter's services or its being active may change
    if (name === boot.live.names.TICKET_UPDATED) myDaySoon();
    if (name === boot.live.names.SITE_UPDATED) refreshTargets();
  },
});
document.body.dataset.ready = "true";
