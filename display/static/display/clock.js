// The date and time as a Vietnamese hall reads them: "Thứ Hai, 23/11/2026 09:05",
// in the site's time zone, from the server's clock (a TV's own clock is often wrong).

const WEEKDAYS = {
  vi: {
    Sun: "Chủ Nhật",
    Mon: "Thứ Hai",
    Tue: "Thứ Ba",
    Wed: "Thứ Tư",
    Thu: "Thứ Năm",
    Fri: "Thứ Sáu",
    Sat: "Thứ Bảy",
  },
  en: {
    Sun: "Sunday",
    Mon: "Monday",
    Tue: "Tuesday",
    Wed: "Wednesday",
    Thu: "Thursday",
    Fri: "Friday",
    Sat: "Saturday",
  },
};

export function dateParts(moment, timeZone, lang = "vi") {
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: timeZone || "Asia/Ho_Chi_Minh",
    weekday: "short",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const parts = Object.fromEntries(format.formatToParts(moment).map((p) => [p.type, p.value]));
  const names = WEEKDAYS[lang] || WEEKDAYS.vi;
  return {
    weekday: names[parts.weekday] || parts.weekday,
    date: `${parts.day}/${parts.month}/${parts.year}`,
    time: `${parts.hour}:${parts.minute}`,
  };
}

// "Thứ Hai, 23/11/2026 09:05"
export function dateTimeText(moment, timeZone, lang = "vi") {
  const p = dateParts(moment, timeZone, lang);
  return `${p.weekday}, ${p.date} ${p.time}`;
}

// Keep the clock elements up to date, on the minute.
export function runClock(now, timeZone, lang, { time, date, whole }) {
  const tick = () => {
    const p = dateParts(now(), timeZone(), lang);
    if (time) time.textContent = p.time;
    if (date) date.textContent = `${p.weekday}, ${p.date}`;
    if (whole) whole.textContent = `${p.weekday}, ${p.date} ${p.time}`;
  };
  tick();
  setInterval(tick, 1000);
}
