// What a display knows of its site: the snapshot, kept up to date by the events.
//
// Every payload carries the site's `seq`. An event right after the last one known is
// applied; one already covered (seq not above) is left out; one further on means events were
// missed: the display asks for the snapshot again ("sync") and keeps what arrives meanwhile,
// to apply what the new snapshot does not cover yet. No DOM here, so it can be reasoned about
// (and tested) on its own.
//
// The last calls (`recent`, newest first) are calls, not tickets: the number, the counter it
// was called to and when (`call_at`). They stay as they were whatever happens to the ticket
// after (finished, absent, sent on) until newer calls push them out, as in the snapshot.

// live: the boot data's `live` (server/realtime/live.py): the events' and statuses' names.
export class DisplayState {
  constructor({ live, recentLimit = 12, now = () => new Date() }) {
    this.names = live.names;
    this.atCounter = live.at_counter;
    this.recentLimit = recentLimit;
    this.now = now; // the server's time, for the moment of a recall
    this.seq = null;
    this.site = null;
    this.businessDay = null;
    this.services = [];
    this.waiting = {};
    this.counters = new Map();
    this.recent = [];
    this.serverNow = null;
    this.syncing = false;
    this.pending = [];
  }

  // Replace everything with a snapshot; returns "gap" when a kept event shows a new gap.
  loadSnapshot(snapshot) {
    this.site = snapshot.site;
    this.businessDay = snapshot.business_day;
    this.serverNow = snapshot.now;
    this.services = snapshot.services || [];
    this.waiting = Object.fromEntries(this.services.map((s) => [s.code, s.waiting]));
    this.counters = new Map((snapshot.counters || []).map((c) => [c.number, c]));
    this.recent = (snapshot.recent_calls || []).slice(0, this.recentLimit);
    this.seq = snapshot.seq;
    this.syncing = false;
    const kept = this.pending
      .filter((item) => item.payload.seq > this.seq)
      .sort((a, b) => a.payload.seq - b.payload.seq);
    this.pending = [];
    for (const item of kept) {
      if (this.receive(item.name, item.payload) === "gap") return "gap";
    }
    return "ok";
  }

  // One event: "applied", "stale" (the snapshot has it), "gap" (sync needed) or "kept".
  receive(name, payload) {
    if (this.seq === null || this.syncing) {
      this.pending.push({ name, payload });
      return "kept";
    }
    if (payload.seq <= this.seq) return "stale";
    if (payload.seq !== this.seq + 1) {
      this.syncing = true;
      this.pending.push({ name, payload });
      return "gap";
    }
    this.apply(name, payload);
    this.seq = payload.seq;
    return "applied";
  }

  apply(name, payload) {
    if (payload.waiting) this.waiting = { ...this.waiting, ...payload.waiting };
    const ticket = payload.ticket;
    const { TICKET_CALLED, TICKET_UPDATED, COUNTER_UPDATED } = this.names;
    if (name === TICKET_CALLED && ticket) {
      const call = {
        ...ticket,
        call_at: payload.recall ? this.now().toISOString() : ticket.called_at,
      };
      this.recent = [call, ...this.recent.filter((t) => t.id !== ticket.id)].slice(
        0,
        this.recentLimit,
      );
      const counter = this.counters.get(ticket.counter);
      if (counter) this.counters.set(counter.number, { ...counter, current: ticket });
    } else if (name === TICKET_UPDATED && ticket) {
      for (const counter of this.counters.values()) {
        if (counter.current && counter.current.id === ticket.id) {
          const current = this.atCounter.includes(ticket.status) ? ticket : null;
          this.counters.set(counter.number, { ...counter, current });
        }
      }
    } else if (name === COUNTER_UPDATED && payload.counter) {
      // The event leaves out what only the snapshot says (the services): kept from before.
      const before = this.counters.get(payload.counter.number) || {};
      this.counters.set(payload.counter.number, { ...before, ...payload.counter });
    }
  }

  counterList() {
    return [...this.counters.values()].sort((a, b) => a.number - b.number);
  }
}

// A call is said once: a recall or a new call of the same ticket is another call.
export function callKey(ticket) {
  return `${ticket.id}:${ticket.called_at}:${ticket.recall_count}`;
}
