// Socket.IO for the workstation: the page's login session opens the site's room. The server
// sends a `state` snapshot first (again after every reconnect), then events with `seq`; a gap
// in `seq` asks for the snapshot again. Every event and snapshot calls `onChange`.

const EVENTS = ["ticket.issued", "ticket.called", "ticket.updated", "counter.updated", "site.updated"];
const RETRY_REFUSED_MS = 5000;
const SYNC_WAIT_MS = 10000;

export function connectLive({ site, onState, onEvent, onConnection }) {
  const socket = window.io({
    auth: { site },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });
  let seq = null;
  let syncing = false;
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
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), RETRY_REFUSED_MS);
  });
  socket.on("connect_error", () => {
    onConnection(false);
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
        if (message.seq > seq + 1) sync(); // missed one: the snapshot again
      }
      if (typeof message.seq === "number") seq = message.seq;
      onEvent(name, message);
    });
  }
  return { sync, socket };
}
