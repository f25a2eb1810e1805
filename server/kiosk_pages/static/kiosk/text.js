// The page's words in both languages, from the server's catalog (never written here).

export class Text {
  constructor(tables, language) {
    this.tables = tables; // {vi: {text, priorities}, en: {...}}
    this.language = tables[language] ? language : "vi";
  }

  get other() {
    return this.language === "vi" ? "en" : "vi";
  }

  use(language) {
    if (!this.tables[language]) return;
    this.language = language;
    document.documentElement.lang = language;
    for (const el of document.querySelectorAll("[data-t]")) {
      el.textContent = this.t(el.dataset.t);
    }
    for (const el of document.querySelectorAll("[data-priority]")) {
      el.textContent = this.priority(el.dataset.priority);
    }
  }

  // One sentence with its {placeholders} filled; ``language`` defaults to the current one.
  t(key, params = {}, language = this.language) {
    const template = this.tables[language].text[key] ?? this.tables.vi.text[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (whole, name) =>
      name in params ? String(params[name]) : whole
    );
  }

  priority(code) {
    return this.tables[this.language].priorities[code] ?? code;
  }

  // A wait in minutes rounded up, as on the printed ticket ("khoảng 15 phút").
  duration(seconds) {
    if (seconds < 60) return this.t("duration_under_minute");
    const total = Math.ceil(seconds / 60);
    const h = Math.floor(total / 60);
    const m = total % 60;
    if (h && m) return this.t("duration_hours_minutes", { h, m });
    if (h) return this.t("duration_hours", { h });
    return this.t("duration_minutes", { m });
  }
}
