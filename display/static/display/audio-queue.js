// One serial queue of announcements per speaking display.
//
// A call becomes one item: the chime, then the announcement `repeat` times. The worker takes
// the first item off the queue and plays that item, file after file, each to its end, before
// it takes the next: never two at once, never cut off, never another call's files. A call is
// queued once, whatever arrives twice (its key: ticket id, called_at, recall count). When the
// browser refuses to play without a gesture, the item waits where it is (it is not taken
// again or lost) until a tap unlocks the sound.
//
// Calls that wait are said as one list, so that each is heard soon (five counters calling
// together: every call within 15 s, where one call after the other, chime and sentence twice
// each, took 54 s for the fifth). While another call waits:
//   - the chime is played once, for the first call of the list;
//   - a call is said once: its repeat is dropped if a call is waiting when it would start;
//   - a call that follows another at once is said without the template's opening phrase
//     ("… A001 đến quầy số 1. B001 đến quầy số 2. …"), from `audio.short`;
//   - speech is played a little faster (LIST_RATE, pitch kept).
// The last call of a list, with nobody behind it, is said at the normal pace and repeated.
//
// window.xephangAudioLog gets one entry per file played, {ticket, key, url, kind ("chime" or
// "speech"), rate, queued, started, ended}, `queued` being when the call reached the queue
// (performance.now() milliseconds, as are started and ended), so a test can check the order,
// and how long each call waited to be heard, without listening.

const PAUSE_AFTER_CHIME_S = 0.3;
const PAUSE_BETWEEN_REPEATS_S = 0.8;
const PAUSE_BETWEEN_CALLS_S = 0.3; // the joined files end with 0.2 s of silence of their own
const LIST_RATE = 1.25;
const STALL_LIMIT_MS = 15000; // a file that neither plays nor fails for so long is given up
const REMEMBERED_KEYS = 500;
// A call still queued after this long (the sound was off, nobody tapped) is not said any more:
// a hall that hears a list of old numbers at once is worse off than one that sees them.
const TOO_LATE_MS = 3 * 60 * 1000;

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// One way of saying the announcement: its files in order, each with the silence after it.
// `short` leaves out the template's opening phrase (null when the template has none).
function speechOf(audio, short) {
  if (audio.joined) {
    const url = short ? audio.short : audio.joined;
    return url ? [{ url, pause: 0 }] : null;
  }
  const lead = short ? audio.lead || 0 : 0;
  const clips = (audio.clips || [])
    .map((url, i) => ({ url, pause: (audio.pauses || [])[i] || 0 }))
    .slice(lead);
  if (short && (!lead || !clips.length)) return null;
  return clips;
}

// What a call plays: the chime, the announcement (said `times` times when no call waits) and
// its short form for a call that follows another.
export function callPlan(audio, repeat) {
  return {
    chime: audio.chime || null,
    speech: speechOf(audio, false),
    short: speechOf(audio, true),
    times: Math.max(1, repeat || audio.repeat || 2),
  };
}

export class AudioQueue {
  constructor({ player, onBlocked, onUnblocked, onSpeaking, log } = {}) {
    this.player = player || new Audio();
    this.player.preload = "auto";
    this.onBlocked = onBlocked || (() => {});
    this.onUnblocked = onUnblocked || (() => {});
    this.onSpeaking = onSpeaking || (() => {});
    this.log = log || (window.xephangAudioLog = window.xephangAudioLog || []);
    this.items = [];
    this.keys = new Set();
    this.running = false;
    this.blocked = false;
    this.resume = null;
  }

  // Queue a call ({key, ticket, plan}) once; false when it was queued or played already.
  add(item) {
    if (this.keys.has(item.key)) return false;
    this.keys.add(item.key);
    if (this.keys.size > REMEMBERED_KEYS) this.keys.delete(this.keys.values().next().value);
    const { plan } = item;
    for (const part of [...(plan.speech || []), ...(plan.short || [])]) prefetch(part.url);
    if (plan.chime) prefetch(plan.chime);
    this.items.push({ ...item, queuedAt: performance.now() });
    if (!this.running) this.run();
    return true;
  }

  get length() {
    return this.items.length;
  }

  // Whether a call is waiting behind the one being said.
  get waiting() {
    return this.items.length > 0;
  }

  async run() {
    this.running = true;
    this.onSpeaking(true);
    let follows = false; // the call before was said just now: this one continues the list
    try {
      while (this.items.length) {
        const item = this.items.shift();
        if (performance.now() - item.queuedAt > TOO_LATE_MS) {
          const { ticket, key } = item;
          this.log.push({ ticket, key, url: null, started: null, ended: null, error: "too-late" });
          continue;
        }
        await this.say(item, follows);
        follows = true;
        if (this.items.length) await sleep(PAUSE_BETWEEN_CALLS_S);
      }
    } finally {
      this.running = false;
      this.onSpeaking(false);
    }
  }

  // One call: the chime unless it continues a list, the announcement, its repeats while no
  // other call waits (see the rules at the top).
  async say(item, follows) {
    const { chime, speech, short, times } = item.plan;
    if (chime && !follows) {
      await this.playFile(item, chime, "chime", 1);
      await sleep(PAUSE_AFTER_CHIME_S);
    }
    await this.speak(item, follows && short ? short : speech);
    for (let i = 1; i < times && !this.waiting; i += 1) {
      await sleep(PAUSE_BETWEEN_REPEATS_S);
      if (this.waiting) break; // a call came meanwhile: it is said now, not this repeat
      await this.speak(item, speech);
    }
  }

  async speak(item, parts) {
    const rate = this.waiting ? LIST_RATE : 1;
    for (const part of parts || []) {
      await this.playFile(item, part.url, "speech", rate);
      if (part.pause > 0) await sleep(part.pause / rate);
    }
  }

  // Play one file to its end (or its failure); resolves either way, so the queue goes on.
  playFile(item, url, kind, rate) {
    const entry = {
      ticket: item.ticket,
      key: item.key,
      url,
      kind,
      rate,
      queued: item.queuedAt,
      started: null,
      ended: null,
    };
    this.log.push(entry);
    const player = this.player;
    return new Promise((resolve) => {
      let lastTime = -1;
      let lastProgress = performance.now();
      const finish = (error) => {
        clearInterval(watchdog);
        player.onplaying = player.onended = player.onerror = null;
        if (error) entry.error = error;
        if (entry.ended === null) entry.ended = performance.now();
        resolve();
      };
      const watchdog = setInterval(() => {
        if (this.blocked) {
          lastProgress = performance.now();
        } else if (player.currentTime !== lastTime) {
          lastTime = player.currentTime;
          lastProgress = performance.now();
        } else if (performance.now() - lastProgress > STALL_LIMIT_MS) {
          player.pause();
          finish("stalled");
        }
      }, 500);
      player.onplaying = () => {
        if (entry.started === null) entry.started = performance.now();
      };
      player.onended = () => finish(null);
      player.onerror = () => finish("media-error");
      player.src = url;
      // After src: a new source takes the default rate. The pitch is kept (preservesPitch).
      player.defaultPlaybackRate = rate;
      player.playbackRate = rate;
      const start = () =>
        player.play().catch((err) => {
          if (err && err.name === "NotAllowedError") {
            entry.started = null; // Chromium may have fired "playing" before it refused
            entry.blocked = true; // it waits for a tap, and is then played, not taken again
            this.waitForGesture(start);
          } else if (!(err && err.name === "AbortError")) {
            finish(err ? err.name : "play-failed");
          }
        });
      start();
    });
  }

  waitForGesture(start) {
    this.blocked = true;
    this.resume = start;
    this.onBlocked();
  }

  // Called from a tap: play() inside the gesture unlocks the sound for the page.
  unlock() {
    if (!this.blocked) return;
    this.blocked = false;
    const resume = this.resume;
    this.resume = null;
    this.onUnblocked();
    if (resume) resume();
  }
}

function prefetch(url) {
  if (typeof fetch !== "function") return;
  fetch(url, { credentials: "same-origin" }).catch(() => {});
}

// Whether the browser lets this page play sound without a gesture: a short silence is tried.
export function canAutoplay() {
  const probe = new Audio(silentWav());
  return probe.play().then(
    () => true,
    (err) => !(err && err.name === "NotAllowedError"),
  );
}

function silentWav(samples = 800, rate = 8000) {
  const bytes = new Uint8Array(44 + samples);
  const view = new DataView(bytes.buffer);
  const text = (offset, s) => [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate, true);
  view.setUint16(32, 1, true);
  view.setUint16(34, 8, true);
  text(36, "data");
  view.setUint32(40, samples, true);
  bytes.fill(128, 44);
  let binary = "";
  bytes.forEach((b) => {
    binary += String.fromCharCode(b);
  });
  return `data:audio/wav;base64,${btoa(binary)}`;
}
