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

/** Turn "fr, en ,AR" into ["fr", "en", "ar"] (the API checks the codes). */
export function languagesOf(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim().toLowerCase()).filter(Boolean))];
}
