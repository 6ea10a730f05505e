/**
 * What the console reads from the dispatch API, and the small helpers every part of the console
 * shares: the page's `t`, its element finder, units in words, and refusals said in the page
 * language (a dispatcher under fire reads "this incident is no longer open", never "HTTP 409").
 */
import { ApiFailure } from "./staff";

export type T = (key: string) => string;

export interface Assignment { id: string; unit_id: string; status: string; distance_m: number; eta_s: number }
export interface Incident {
  id: string; status: string; priority: number; situation: string; sos_count: number;
  lat: number; lon: number; opened_at: string; merged_into?: string | null;
  assignments: Assignment[];
}
export interface SosPoint {
  sos_id: string; incident_id?: string; lat: number; lon: number; situation: string;
  people: number | null; received_at: string;
}
export interface IncidentDetail extends Incident { sos: SosPoint[] }
export interface Unit { id: string; callsign: string; status: string; lat: number | null; lon: number | null }
export interface Proposal { unit_id: string; callsign: string; distance_m: number; eta_s: number }
export interface SosDetail {
  id: string; text: string | null; trail: { lat: number; lon: number; at: string }[];
  messages: { sender: string; text: string; at: string }[];
}
/** An SOS sent "position unknown": in no incident until the phone sends a point. */
export interface Unlocated { sos_id: string; situation: string; people: number | null; received_at: string }

/** Offers and missions still in force (the others are history). */
export const LIVE = ["offered", "accepted", "on_scene"];

/** The console's root element, its messages, and where it writes a line for an action. */
export interface Ctx {
  root: HTMLElement;
  t: T;
  $: <E extends Element>(selector: string) => E;
  say(where: string, text: string): void;
}

export function consoleCtx(root: HTMLElement, t: T): Ctx {
  const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
  return {
    root, t, $,
    say: (where, text) => { $<HTMLElement>(`[data-message="${where}"]`).textContent = text; },
  };
}

export const minutes = (s: number): string => `${Math.max(1, Math.round(s / 60))} min`;
export const km = (m: number): string =>
  (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);

/** Great-circle distance in metres: enough to rank nearby incidents. */
export function metres(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const rad = Math.PI / 180;
  const dLat = (bLat - aLat) * rad;
  const dLon = (bLon - aLon) * rad;
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

const KINDS: Record<number, string> = {
  403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid",
};

/**
 * A refused action in the page language. The server's own message is English and technical, so
 * the status decides the words; `action` picks a precise sentence where one exists
 * (`dispatch.error.invalid_merge`), else the general one.
 */
export function refusal(error: unknown, t: T, action = ""): string {
  if (!(error instanceof ApiFailure)) return t("dispatch.error.network");
  const kind = KINDS[error.error.status] ?? "server";
  const precise = action ? t(`dispatch.error.${kind}_${action}`) : "";
  return precise && !precise.startsWith("dispatch.") ? precise : t(`dispatch.error.${kind}`);
}
