// One serial queue of announcements per speaking display.
//
// A call becomes one item: the chime, then the announcement `repeat` times. The worker takes
// the first item off the queue and plays that item, file after file, each to its end, before
// it takes the next: never two at once, never cut off. A call is queued once, whatever
// arrives twice (its key: ticket id, called_at, recall count). When the browser refuses to
// play without a gesture, the item waits where it is (it is not taken again or lost) until a
// tap unlocks the sound.
//
// window.xephangAudioLog gets one entry per file played, {ticket, key, url, started, ended}
// (performance.now() milliseconds), so a test can check the order without listening.

const PAUSE_AFTER_CHIME_S = 0.3;
const PAUSE_BETWEEN_REPEATS_S = 0.8;
const PAUSE_BETWEEN_CALLS_S = 0.6;
const STALL_LIMIT_MS = 15000; // a file that neither plays nor fails for so long is given up
const REMEMBERED_KEYS = 500;
// A call still queued after this long (the sound was off, nobody tapped) is not said any more:
// a hall that hears a list of old numbers at once is worse off than one that sees them.
const TOO_LATE_MS = 3 * 60 * 1000;

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// The files of one call, in order, each with the silence after it.
export function callParts(audio, repeat) {
  const speech = audio.joined
    ? [{ url: audio.joined, pause: 0 }]
    : (audio.clips || []).map((url, i) => ({ url, pause: (audio.pauses || [])[i] || 0 }));
  const parts = [];
  if (audio.chime) parts.push({ url: audio.chime, pause: PAUSE_AFTER_CHIME_S, kind: "chime" });
  const times = Math.max(1, repeat || audio.repeat || 2);
  for (let i = 0; i < times && speech.length; i += 1) {
    speech.forEach((part, j) => {
      const last = j === speech.length - 1 && i < times - 1;
      parts.push({
        url: part.url,
        pause: part.pause + (last ? PAUSE_BETWEEN_REPEATS_S : 0),
        kind: "speech",
      });
    });
  }
  return parts;
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

  // Queue a call once; false when this call was queued or played already.
  add(item) {
    if (this.keys.has(item.key)) return false;
    this.keys.add(item.key);
    if (this.keys.size > REMEMBERED_KEYS) this.keys.delete(this.keys.values().next().value);
    for (const part of item.parts) prefetch(part.url);
    this.items.push({ ...item, queuedAt: performance.now() });
    if (!this.running) this.run();
    return true;
  }

  get length() {
    return this.items.length;
  }

  async run() {
    this.running = true;
    this.onSpeaking(true);
    try {
      while (this.items.length) {
        const item = this.items.shift();
        if (performance.now() - item.queuedAt > TOO_LATE_MS) {
          const { ticket, key } = item;
          this.log.push({ ticket, key, url: null, started: null, ended: null, error: "too-late" });
          continue;
        }
        for (const part of item.parts) {
          await this.playFile(item, part.url);
          if (part.pause > 0) await sleep(part.pause);
        }
        if (this.items.length) await sleep(PAUSE_BETWEEN_CALLS_S);
      }
    } finally {
      this.running = false;
      this.onSpeaking(false);
    }
  }

  // Play one file to its end (or its failure); resolves either way, so the queue goes on.
  playFile(item, url) {
    const entry = { ticket: item.ticket, key: item.key, url, started: null, ended: null };
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
