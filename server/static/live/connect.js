// One Socket.IO connection to a site's room, shared by the kiosk and the clerk's page.
//
// The server sends a `state` snapshot first (again after every reconnect), then events, each
// with the site's `seq`. An event already in the snapshot is dropped; a gap in `seq` asks for
// the snapshot again (`sync`), and so does `site.updated` (an admin changed services,
// counters or settings). Socket.IO reconnects by itself; a connection the server refused or
// closed is retried here.

export const EVENTS = [
  "ticket.issued",
  "ticket.called",
  "ticket.updated",
  "counter.updated",
  "site.updated",
];
const RETRY_REFUSED_MS = 5000;
const SYNC_WAIT_MS = 10000; // a `sync` left unanswered does not block the next one for ever

// auth: {token} for a paired device, {site} for a logged-in staff page.
// settleMs: after events, read the snapshot again this much later (estimates); 0 = never.
// refreshMs: read the snapshot again this often (opening hours pass without events); 0 = never.
export function connectLive({ auth, onState, onEvent, onConnection, refreshMs = 0, settleMs = 0 }) {
  const socket = window.io({ auth, reconnectionDelay: 1000, reconnectionDelayMax: 5000 });
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
      if (name === "site.updated") sync();
      onEvent(name, message);
      if (settleMs > 0 && settleTimer === null) {
        settleTimer = setTimeout(() => {
          settleTimer = null;
          sync();
        }, settleMs);
      }
    });
  }

  if (refreshMs > 0) setInterval(sync, refreshMs);
  return { sync, socket };
}
