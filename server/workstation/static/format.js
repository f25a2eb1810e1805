// Small text helpers of the workstation: elapsed times, waited times, times of day.

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

const pad = (n) => String(n).padStart(2, "0");

// mm:ss, or h:mm:ss after an hour; never negative (a clock a little ahead shows 00:00).
export function clockText(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
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
