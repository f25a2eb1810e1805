// The display's link to the server: Socket.IO, the state, the calls and the voice.
//
// The page starts from the snapshot it was rendered with, and again from the `state` the
// server sends on every (re)connection; socket.io reconnects by itself after a network cut
// or a server restart, so nobody has to touch the screen. A snapshot never announces a call:
// only a live `ticket.called` does, once (see audio-queue.js), which is why a reconnection does
// not replay old calls.

import { AudioQueue, callParts, canAutoplay } from "./audio-queue.js";
import { DisplayState, callKey } from "./state.js";

const EVENTS = [
  "ticket.issued",
  "ticket.called",
  "ticket.updated",
  "counter.updated",
  "site.updated",
];
const SYNC_RETRY_MS = 10000;
const RESYNC_EVERY_MS = 60000; // also catches a missed last event and the new business day
const RETRY_REFUSED_MS = 5000;
const REMEMBERED_CALLS = 1000;

export function readBoot() {
  return JSON.parse(document.getElementById("xephang-boot").textContent);
}

// shows(ticket): whether this display shows (and so says) that ticket's calls.
export function startDisplay({ boot, shows, onState, onCall, onConnection, onSound }) {
  const options = boot.options;
  const state = new DisplayState({ recentLimit: 12 });
  const seen = new Set();
  let clockOffset = 0;
  let syncTimer = null;

  const queue = options.speak
    ? new AudioQueue({
        onBlocked: () => onSound("blocked"),
        onUnblocked: () => onSound("on"),
        onSpeaking: (speaking) => onSound(speaking ? "speaking" : "quiet"),
      })
    : null;

  const snapshot = (data) => {
    if (data.now) clockOffset = Date.parse(data.now) - Date.now();
    if (state.loadSnapshot(data) === "gap") askSync();
    else clearTimeout(syncTimer);
    onState(state);
  };

  const socket = window.io({
    auth: { token: boot.token },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });

  function askSync() {
    clearTimeout(syncTimer);
    if (socket.connected) socket.emit("sync");
    syncTimer = setTimeout(() => {
      if (state.syncing) askSync();
    }, SYNC_RETRY_MS);
  }

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
        parts: callParts(payload.audio, options.repeat || payload.audio.repeat),
      });
    }
  };

  socket.on("connect", () => onConnection(true));
  socket.on("disconnect", (reason) => {
    onConnection(false);
    if (reason === "io server disconnect") socket.connect();
  });
  let retry = null;
  socket.on("connect_error", () => {
    onConnection(false);
    // A refused connection (the server was up but not ready) is not retried by socket.io.
    if (!socket.active && retry === null) {
      retry = setTimeout(() => {
        retry = null;
        socket.connect();
      }, RETRY_REFUSED_MS);
    }
  });
  socket.on("state", snapshot);
  for (const name of EVENTS) {
    socket.on(name, (payload) => {
      const outcome = state.receive(name, payload);
      if (name === "ticket.called") announce(payload);
      if (outcome === "gap") askSync();
      // An admin changed the site's name, services or counters: read the snapshot again.
      else if (name === "site.updated" && outcome === "applied") askSync();
      if (outcome === "applied") onState(state);
    });
  }
  setInterval(() => {
    if (socket.connected && !state.syncing) socket.emit("sync");
  }, RESYNC_EVERY_MS);

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
    now: () => new Date(Date.now() + clockOffset),
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
