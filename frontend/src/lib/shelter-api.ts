/**
 * Calls to /api/v1/shelter and the secrets this browser keeps for it.
 *
 * A host's management token and a seeker's request token are the only keys to an offer or a
 * request (no account); they are kept in localStorage on this device and nowhere else.
 */

export interface Secret {
  id: string;
  token: string;
}
export interface Area {
  cell: string;
  boundary: number[][];
  offers: number;
  places: number;
}
export interface Proposal {
  offer_id: string;
  cell: string;
  boundary: number[][];
  distance_band: string;
  remaining: number;
  access: string;
  pets: boolean;
  languages: string[];
  common_languages: string[];
  note: string | null;
  ends_at: string;
}
export interface HostRequest {
  id: string;
  status: string;
  people: number;
  access_need: string;
  pets: boolean;
  languages: string[];
  note: string | null;
  distance_band: string;
}

const BASE = "/api/v1/shelter";
const STORE = "tocsin.shelter";
const DEVICE = "tocsin.device";

function device(): string {
  let value = localStorage.getItem(DEVICE);
  if (value === null) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    value = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(DEVICE, value);
  }
  return value;
}

/** Call the shelter API; a refusal becomes an Error carrying the server's message. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const init: RequestInit = {
    method,
    cache: "no-store",
    headers: { Accept: "application/json", "X-Device-Token": device(), ...headers,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(BASE + path, init);
  const data: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data as { error?: { message?: string } } | null)?.error;
    throw new Error(error?.message ?? `HTTP ${response.status}`);
  }
  return data as T;
}

type Kind = "offer" | "request";

function load(): Partial<Record<Kind, Secret>> {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? "{}") as Partial<Record<Kind, Secret>>;
  } catch {
    return {};
  }
}

/** Keep the secret of this browser's offer or request. */
export function remember(kind: Kind, secret: Secret): void {
  localStorage.setItem(STORE, JSON.stringify({ ...load(), [kind]: secret }));
}

/** Return the secret kept for this browser's offer or request, if any. */
export function recall(kind: Kind): Secret | undefined {
  return load()[kind];
}

/** The language codes ticked in a form's list (the API checks them; 8 at most). */
export function languagesOf(form: HTMLFormElement): string[] {
  return new FormData(form).getAll("languages").map(String);
}

/** `key_one` or `key_other` by the page language's plural rule, with {n} filled in. */
export function plural(t: (key: string) => string, key: string, n: number): string {
  const lang = document.documentElement.lang === "en" ? "en-GB" : "fr-FR";
  const form = new Intl.PluralRules(lang).select(n) === "one" ? "one" : "other";
  return t(`${key}_${form}`).replace("{n}", String(n));
}

/**
 * Run `tick` every `everyMs` while the page is in view, and at once when it comes back: a
 * phone left in a pocket asks nothing, and the list is fresh the moment the person looks.
 * Returns a function that stops it.
 */
export function whileVisible(tick: () => void, everyMs: number): () => void {
  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible") tick();
  }, everyMs);
  const onShow = (): void => {
    if (document.visibilityState === "visible") tick();
  };
  document.addEventListener("visibilitychange", onShow);
  return () => {
    window.clearInterval(timer);
    document.removeEventListener("visibilitychange", onShow);
  };
}
