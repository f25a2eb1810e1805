// The display's link to the server: Socket.IO, the state, the calls and the voice.
//
// The page starts from the snapshot it was rendered with, and again from the snapshot the
// server sends on every (re)connection; the shared live connection (connect.js) reconnects
// after a network cut or a server restart, so nobody has to touch the screen, and reads
// the snapshot again on a gap in `seq`. A snapshot never announces a call:
// only a live `ticket.called` does, once (see audio-queue.js), which is why a reconnection does
// not replay old calls.

import { connectLive } from "/static/live/connect.js";
import { AudioQueue, callPlan, canAutoplay } from "./audio-queue.js";
import { DisplayState, callKey } from "./state.js";

const RESYNC_EVERY_MS = 60000; // also catches a missed last event and the new business day
const REMEMBERED_CALLS = 1000;

export function readBoot() {
  return JSON.parse(document.getElementById("xephang-boot").textContent);
}

// shows(ticket): whether this display shows (and so says) that ticket's calls.
export function startDisplay({ boot, shows, onState, onCall, onConnection, onSound }) {
  const called = boot.live.names.TICKET_CALLED;
  const options = boot.options;
  let clockOffset = 0;
  const now = () => new Date(Date.now() + clockOffset);
  const state = new DisplayState({ live: boot.live, recentLimit: 12, now });
  const seen = new Set();

  const queue = options.speak
    ? new AudioQueue({
        onBlocked: () => onSound("blocked"),
        onUnblocked: () => onSound("on"),
        onSpeaking: (speaking) => onSound(speaking ? "speaking" : "quiet"),
      })
    : null;

  let live = null;
  const askSync = () => live && live.sync();
  const snapshot = (data) => {
    if (data.now) clockOffset = Date.parse(data.now) - Date.now();
    if (state.loadSnapshot(data) === "gap") askSync();
    onState(state);
  };

  const announce = (payload) => {
    const ticket = payload.ticket;
    if (!ticket || !shows(ticket)) return;
    const key = callKey(ticket);
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > REMEMBERED_CALLS) seen.delete(seen.values().next().value);
    onCall(ticket, payload);
    if (queue && payload.audio) {
      queue.add({
        key,
        ticket: ticket.number,
        plan: callPlan(payload.audio, options.repeat || payload.audio.repeat),
      });
    }
  };

  live = connectLive({
    live: boot.live,
    auth: { token: boot.token },
    onState: snapshot,
    onConnection,
    refreshMs: RESYNC_EVERY_MS,
    onMessage: (name, payload) => {
      const outcome = state.receive(name, payload);
      if (name === called) announce(payload);
      if (outcome === "gap") askSync(); // the display's own check, beside connect.js's
      if (outcome === "applied") onState(state);
    },
  });
  const socket = live.socket;

  if (queue) {
    canAutoplay().then((allowed) => {
      if (!allowed && !queue.blocked) queue.waitForGesture(null);
    });
  }

  snapshot(boot.state);
  // What the tests and a curious technician can look at.
  window.xephangDisplay = { state, socket, queue, seen };
  return {
    state,
    socket,
    queue,
    now,
    unlockSound: () => queue && queue.unlock(),
  };
}

// Which tickets a display shows: its counters and services, if it was given any.
export function ticketFilter(options) {
  const counters = options.counters ? new Set(options.counters) : null;
  const services = options.services ? new Set(options.services) : null;
  return (ticket) =>
    (!counters || counters.has(ticket.counter)) && (!services || services.has(ticket.service));
}
