/**
 * Translations for browser code.
 *
 * The message catalogue lives in Python (tocsin/web/i18n.py) so there is one source of
 * truth. A template hands the strings a script needs to the browser as `data-i18n-*`
 * attributes on an element, dots and underscores of the key written as dashes
 * (`status.ok` → `data-i18n-status-ok`; no inline script: the CSP forbids it), and `messagesFrom`
 * turns them into a `t(key)` function.
 */

export type Lang = "fr" | "en";

/** Return the page language, as the server wrote it on <html lang>. */
export function pageLang(): Lang {
  return document.documentElement.lang === "en" ? "en" : "fr";
}

/**
 * Convert `status.ok` to the dataset name of `data-i18n-status-ok` (`i18nStatusOk`). HTML lowers
 * the case of attribute names, so a key with capitals (`cyber.region.FR-IDF`) is lowered first.
 */
function datasetKey(key: string): string {
  const camel = key.toLowerCase().replace(/[._-]([a-z])/g, (_m, c: string) => c.toUpperCase());
  return `i18n${camel.charAt(0).toUpperCase()}${camel.slice(1)}`;
}

/** Build `t(key)` over the `data-i18n-*` attributes of `el`; unknown keys come back as is. */
export function messagesFrom(el: HTMLElement): (key: string) => string {
  return (key: string): string => el.dataset[datasetKey(key)] ?? key;
}

/** Format a time of day in the page language (24-hour clock in both). */
export function formatTime(date: Date, lang: Lang = pageLang()): string {
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(date);
}
