/**
 * Date-and-time fields written the French way, "10/01/2026 21:20", whatever the browser's locale.
 *
 * Why: `<input type="datetime-local">` is drawn by the browser in its own locale, so a prefect's
 * alert expiry read "01/10/2026, 09:20 PM" on a machine set to American English (headless
 * Chromium included): a 12-hour clock and a month-first date on a French crisis console. This
 * turns each such input into a text field "JJ/MM/AAAA HH:MM" (24 h) and keeps the original
 * input, now hidden, as the value holder: same name, same id, same `value` in the
 * "YYYY-MM-DDTHH:MM" form the pages already read and write. Nothing the pages send changes.
 *
 * The text field also takes "2026-01-10T21:20" or "2026-01-10 21:20" (a pasted log timestamp)
 * and "21h20" for the time, and rewrites what it understood in the French form when left.
 */
import { pageLang } from "./i18n";

const TEXT = {
  fr: { placeholder: "JJ/MM/AAAA HH:MM", invalid: "Date et heure attendues : JJ/MM/AAAA HH:MM (24 h)." },
  en: { placeholder: "DD/MM/YYYY HH:MM", invalid: "Expected date and time: DD/MM/YYYY HH:MM (24-hour)." },
};

const FRENCH = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s*(?:,|à|a|at)?\s*|T)(\d{1,2})\s*[:hH]\s*(\d{2})$/;
const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})[T\s]+(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/;

const pad = (n: number): string => String(n).padStart(2, "0");

/** "YYYY-MM-DDTHH:MM" for what a person typed, or null when it is not a real date and time. */
export function parseDateTime(text: string): string | null {
  const s = text.trim();
  let parts: number[] | null = null;
  const fr = FRENCH.exec(s);
  if (fr) parts = [Number(fr[3]), Number(fr[2]), Number(fr[1]), Number(fr[4]), Number(fr[5])];
  const iso = ISO.exec(s);
  if (iso) parts = [Number(iso[1]), Number(iso[2]), Number(iso[3]), Number(iso[4]), Number(iso[5])];
  if (parts === null) return null;
  const [year, month, day, hour, minute] = parts as [number, number, number, number, number];
  // A day that does not exist (31/02) comes back from Date as another one: refused.
  const check = new Date(year, month - 1, day, hour, minute);
  if (check.getFullYear() !== year || check.getMonth() !== month - 1 || check.getDate() !== day
    || hour > 23 || minute > 59) {
    return null;
  }
  return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}`;
}

/** "10/01/2026 21:20" for a "2026-01-10T21:20" value ("" for anything else). */
export function showDateTime(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  return m ? `${m[3]}/${m[2]}/${m[1]} ${m[4]}:${m[5]}` : "";
}

const valueOf = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value") as PropertyDescriptor;

function enhance(input: HTMLInputElement): void {
  const text = TEXT[pageLang()];
  const shown = document.createElement("input");
  shown.type = "text";
  shown.id = `${input.id || input.name}-text`;
  shown.className = input.className;
  shown.classList.add("datetime-fr");
  shown.required = input.required;
  shown.disabled = input.disabled;
  shown.placeholder = text.placeholder;
  shown.title = text.placeholder;
  // No numeric keypad: a phone's would have no "/", ":" or space to type the date with.
  shown.autocomplete = "off";
  shown.spellcheck = false;
  shown.dataset.datetimeFor = input.name;
  const described = input.getAttribute("aria-describedby");
  if (described) shown.setAttribute("aria-describedby", described);
  // The page's label names the visible field (a hidden input cannot be labelled).
  if (input.id) {
    for (const label of document.querySelectorAll<HTMLLabelElement>(`label[for="${input.id}"]`)) {
      label.htmlFor = shown.id;
    }
  }
  const before = valueOf.get?.call(input) as string;
  input.type = "hidden";
  valueOf.set?.call(input, before);
  input.before(shown);
  shown.value = showDateTime(before);

  // The pages set and read `input.value` ("YYYY-MM-DDTHH:MM"): a value set by code shows at once.
  Object.defineProperty(input, "value", {
    configurable: true,
    get: () => valueOf.get?.call(input) as string,
    set: (v: string) => {
      valueOf.set?.call(input, v);
      shown.value = showDateTime(v);
      shown.setCustomValidity("");
    },
  });
  // A page that focuses the field it found wrong reaches the one a person can type in.
  input.focus = (options?: FocusOptions) => shown.focus(options);

  const sync = (): void => {
    const typed = shown.value.trim();
    const parsed = typed === "" ? "" : parseDateTime(typed);
    valueOf.set?.call(input, parsed ?? "");
    shown.setCustomValidity(parsed === null ? text.invalid : "");
    // What listened to the original field (clearing an error note, recomputing) still hears it.
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  shown.addEventListener("input", sync);
  shown.addEventListener("change", () => {
    sync();
    const v = valueOf.get?.call(input) as string;
    if (v !== "") shown.value = showDateTime(v);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
}

/** Give every `datetime-local` input under `root` its French 24-hour text field. */
export function frenchDateTimes(root: ParentNode = document): void {
  for (const input of root.querySelectorAll<HTMLInputElement>('input[type="datetime-local"]')) enhance(input);
}
