// Small text helpers of the workstation: elapsed times, waited times, times of day.

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

const pad = (n) => String(n).padStart(2, "0");

// How long since a moment, as words, so it does not read as a time of day:
// "35 giây", "14 phút 05 giây", "1 giờ 02 phút"; never negative (a clock a little ahead).
export function elapsedText(ms, texts) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) return fill(texts.hours, { h: hours, m: pad(minutes) });
  if (minutes) return fill(texts.elapsed_minutes, { m: minutes, s: pad(seconds) });
  return fill(texts.elapsed_seconds, { s: seconds });
}

export function waitedText(ms, texts) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return texts.just_now;
  if (minutes < 60) return fill(texts.minutes, { n: minutes });
  return fill(texts.hours, { h: Math.floor(minutes / 60), m: minutes % 60 });
}

export function timeOfDay(iso, timeZone) {
  const moment = new Date(iso);
  try {
    return new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone }).format(moment);
  } catch (_error) {
    return `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
  }
}
