// One Socket.IO connection to a site's room, shared by every live page: the kiosk, the
// clerk's page, the displays, the rating tablet and the citizen's phone page.
//
// The server sends a snapshot first (`state`; the phone's is `ticket`), again after every
// reconnect, then messages, each with the site's `seq`. A message already in the snapshot is
// dropped; a gap in `seq` asks for the snapshot again (`sync`), and so does `site.updated`
// (an admin changed services, counters or settings) or a message with `resync`. A message
// may cover a range of `seq` (`from_seq`..`seq`: the phone's `waiting`); a `partial` message is
// one of a subset of the sequence (the phone's own ticket): never taken as a gap. Socket.IO
// reconnects by itself; a connection the server refused or closed is retried here, and while
// there is no connection a `poll` URL (the same snapshot as JSON) is read instead.
//
// The names of the snapshot, the messages and the statuses come from the server, in the
// page's boot data (`live`, made by server/realtime/live.py): nothing here spells them.
const RETRY_REFUSED_MS = 5000;
const SYNC_WAIT_MS = 10000; // a `sync` left unanswered does not block the next one for ever

// live: the boot data's `live`: {snapshot, messages, partial, statuses, counter_statuses}.
// auth: {token} for a paired device, {site} for a logged-in staff page, {tracking_token}.
// settleMs: after messages, read the snapshot again this much later (estimates); 0 = never.
// onMessage(name, message): each message after the snapshot, in `seq` order.
// refreshMs: read the snapshot again this often (opening hours pass without messages); 0 = never.
// poll: {url, ms}: while not connected, GET the snapshot from url every ms (and at once).
// onRefused(data): the server refused the connection; return true to stop trying.
export function connectLive({
  live,
  auth,
  onState,
  onMessage,
  onConnection,
  refreshMs = 0,
  settleMs = 0,
  poll = null,
  onRefused = null,
}) {
  const { snapshot, messages, partial } = live;
  const resyncOn = live.resync_on; // an admin changed services, counters or settings
  const socket = window.io({ auth, reconnectionDelay: 1000, reconnectionDelayMax: 5000 });
  let seq = null;
  let syncing = false;
  let settleTimer = null;
  let syncTimer = null;
  let pollTimer = null;
  let stopped = false;

  const applyState = (state) => {
    syncing = false;
    seq = state.seq;
    onState(state);
  };

  // Polling: only while the socket is down (websockets and long-polling blocked, say).
  const readOnce = async () => {
    try {
      const response = await fetch(poll.url, { cache: "no-store", credentials: "same-origin" });
      if (response.ok && !socket.connected) applyState(await response.json());
      else if (response.status === 404 && onRefused) stopped = onRefused({ code: "not_found" });
    } catch (err) {
      // offline: the next round tries again
    }
  };
  const startPolling = () => {
    if (!poll || pollTimer !== null || stopped) return;
    readOnce();
    pollTimer = setInterval(() => (stopped ? stopPolling() : readOnce()), poll.ms);
  };
  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = null;
  };

  const sync = () => {
    if (!socket.connected || syncing) return;
    syncing = true;
    clearTimeout(syncTimer);
    syncTimer = setTimeout(() => {
      syncing = false;
    }, SYNC_WAIT_MS);
    socket.emit("sync");
  };

  socket.on("connect", () => {
    stopPolling();
    onConnection(true);
  });
  socket.on("disconnect", (reason) => {
    onConnection(false);
    syncing = false;
    startPolling();
    // After a disconnect the server asked for, Socket.IO does not come back by itself.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), RETRY_REFUSED_MS);
  });
  socket.on("connect_error", (err) => {
    onConnection(false);
    startPolling();
    if (!socket.active && onRefused && err && err.data) stopped = onRefused(err.data);
    // A refused connection (e.g. a token being replaced) is not retried by Socket.IO.
    if (!socket.active && !stopped) setTimeout(() => socket.connect(), RETRY_REFUSED_MS);
  });

  socket.on(snapshot, applyState);

  for (const name of messages) {
    const isPartial = partial.includes(name);
    socket.on(name, (message) => {
      if (seq !== null && typeof message.seq === "number") {
        if (message.seq <= seq) return; // already in the snapshot
        const first = typeof message.from_seq === "number" ? message.from_seq : message.seq;
        if (!isPartial && first > seq + 1) sync(); // missed one: read everything again
      }
      if (typeof message.seq === "number" && !isPartial) seq = message.seq;
      if (name === resyncOn || message.resync === true) sync();
      onMessage(name, message);
      if (settleMs > 0 && settleTimer === null) {
        settleTimer = setTimeout(() => {
          settleTimer = null;
          sync();
        }, settleMs);
      }
    });
  }

  if (refreshMs > 0) setInterval(sync, refreshMs);
  // No connection at all a while after start (everything blocked): poll until there is one.
  if (poll) setTimeout(() => socket.connected || startPolling(), poll.startMs ?? 4000);
  return { sync, socket };
}
