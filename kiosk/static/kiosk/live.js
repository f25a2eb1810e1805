// Live counts over Socket.IO: a `state` snapshot first, then events; a gap in `seq` asks for
// the snapshot again. Socket.IO reconnects by itself and sends `state` again after it.

const EVENTS = [
  "ticket.issued",
  "ticket.called",
  "ticket.updated",
  "counter.updated",
  "site.updated",
];
const RETRY_REFUSED_MS = 10000;
const SYNC_WAIT_MS = 10000; // a `sync` left unanswered does not block the next one for ever

export function connectLive({ token, onState, onEvent, onConnection, refreshMs, settleMs }) {
  const socket = window.io({
    auth: { token },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });
  let seq = null;
  let syncing = false;
  let settleTimer = null;
  let syncTimer = null;

  const sync = () => {
    if (!socket.connected || syncing) return;
    syncing = true;
    clearTimeout(syncTimer);
    syncTimer = setTimeout(() => {
      syncing = false;
    }, SYNC_WAIT_MS);
    socket.emit("sync");
  };

  socket.on("connect", () => onConnection(true));
  socket.on("disconnect", (reason) => {
    onConnection(false);
    syncing = false;
    // After a disconnect the server asked for, Socket.IO does not come back by itself.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), RETRY_REFUSED_MS);
  });
  socket.on("connect_error", () => {
    onConnection(false);
    // A refused connection (e.g. a token being replaced) is not retried by Socket.IO.
    if (!socket.active) setTimeout(() => socket.connect(), RETRY_REFUSED_MS);
  });

  socket.on("state", (state) => {
    syncing = false;
    seq = state.seq;
    onState(state);
  });

  for (const name of EVENTS) {
    socket.on(name, (message) => {
      if (seq !== null && typeof message.seq === "number") {
        if (message.seq <= seq) return; // already in the snapshot
        if (message.seq > seq + 1) sync(); // missed one: read everything again
      }
      if (typeof message.seq === "number") seq = message.seq;
      // An admin changed services or settings: read the whole snapshot again now.
      if (name === "site.updated") {
        sync();
        return;
      }
      onEvent(name, message);
      // Waiting counts come with the event; estimates are re-read a little later.
      if (settleTimer === null) {
        settleTimer = setTimeout(() => {
          settleTimer = null;
          sync();
        }, settleMs);
      }
    });
  }

  // Opening hours pass without any event: re-read now and then.
  setInterval(sync, refreshMs);
  return { sync, socket };
}
