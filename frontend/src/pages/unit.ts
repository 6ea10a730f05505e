/**
 * The field unit's page: its status, the mission offered (accept / decline before the
 * deadline), on scene, finish, and position pings from the phone's geolocation.
 *
 * The page polls its own state every two seconds rather than holding a stream: a patrol's
 * phone roams between cells, and a poll that fails simply succeeds on the next tick.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/dispatch.css";
import { formatTime, messagesFrom } from "../lib/i18n";
import { ApiFailure, api, currentToken, mountStaffLogin, type StaffLogin } from "../lib/staff";

interface Unit {
  id: string;
  callsign: string;
  status: string;
}
interface Assignment {
  id: string;
  status: string;
  distance_m: number;
  eta_s: number;
  deadline_at: string | null;
}
interface Incident {
  situation: string;
  sos_count: number;
}
interface Me {
  unit: Unit;
  assignment: Assignment | null;
  incident: Incident | null;
}

const root = document.getElementById("unit-app") as HTMLElement;
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
const POLL_MS = 2000;
const PING_MS = 10_000;

let me: Me | null = null;
let pollTimer: number | undefined;
let watchId: number | null = null;
let lastPing = 0;

let staff: StaffLogin | null = null;

function say(where: string, text: string): void {
  $<HTMLElement>(`[data-message="${where}"]`).textContent = text;
}

function failure(error: unknown): string {
  return error instanceof ApiFailure ? error.error.message : String(error);
}

function render(state: Me): void {
  me = state;
  $<HTMLElement>("[data-callsign]").textContent = state.unit.callsign;
  const statusEl = $<HTMLElement>("[data-unit-status]");
  statusEl.textContent = t(`dispatch.status.${state.unit.status}`);
  statusEl.dataset.status = state.unit.status;
  const duty = $<HTMLButtonElement>('[data-action="duty"]');
  duty.textContent = state.unit.status === "off_duty" ? t("unit.on_duty") : t("unit.off_duty");
  duty.hidden = !["available", "off_duty"].includes(state.unit.status);
  const offer = state.assignment;
  $<HTMLElement>("[data-offer-empty]").hidden = offer !== null;
  $<HTMLElement>("[data-offer]").hidden = offer === null;
  $<HTMLElement>("[data-offer]").dataset.status = offer?.status ?? "";
  if (offer === null || state.incident === null) {
    $<HTMLElement>("[data-offer-title]").textContent = t("unit.offer_title");
    return;
  }
  const offered = offer.status === "offered";
  $<HTMLElement>("[data-offer-title]").textContent =
    offered ? t("unit.offer_title") : t("unit.mission_title");
  const km = offer.distance_m < 1000 ? `${Math.round(offer.distance_m)} m`
    : `${(offer.distance_m / 1000).toFixed(1)} km`;
  $<HTMLElement>("[data-offer-summary]").textContent =
    `${t(`dispatch.situation.${state.incident.situation}`)} · ${state.incident.sos_count} ` +
    `${t("dispatch.sos_count")} · ${t("dispatch.distance")} ${km} · ${t("dispatch.eta")} ` +
    `${Math.max(1, Math.round(offer.eta_s / 60))} min · ${t(`dispatch.status.${offer.status}`)}`;
  $<HTMLElement>("[data-offer-deadline]").textContent = offered && offer.deadline_at
    ? `${t("unit.deadline")} ${formatTime(new Date(offer.deadline_at))}` : "";
  $<HTMLButtonElement>('[data-action="accept"]').hidden = !offered;
  $<HTMLButtonElement>('[data-action="decline"]').hidden = !offered;
  $<HTMLButtonElement>('[data-action="on-scene"]').hidden = offer.status !== "accepted";
  $<HTMLButtonElement>('[data-action="finish"]').hidden =
    !["accepted", "on_scene"].includes(offer.status);
}

async function poll(): Promise<void> {
  window.clearTimeout(pollTimer);
  try {
    render(await api<Me>("/api/v1/dispatch/units/me"));
  } catch (error) {
    if (error instanceof ApiFailure && error.error.status === 404) say("offer", t("unit.not_linked"));
    if (currentToken() === null) {
      stopDuty();
      staff?.showLogin();
      return;
    }
  }
  pollTimer = window.setTimeout(() => void poll(), POLL_MS);
}

async function answer(action: string): Promise<void> {
  if (me?.assignment === null || me === null) return;
  try {
    await api(`/api/v1/dispatch/assignments/${me.assignment.id}/${action}`, { method: "POST" });
    say("offer", "");
  } catch (error) {
    say("offer", `${t("dispatch.action_failed")} ${failure(error)}`);
  }
  await poll();
}

function ping(position: GeolocationPosition): void {
  const now = Date.now();
  if (me === null || now - lastPing < PING_MS) return;
  lastPing = now;
  const body = { lat: position.coords.latitude, lon: position.coords.longitude,
    accuracy_m: Math.min(100_000, position.coords.accuracy) };
  api(`/api/v1/dispatch/units/${me.unit.id}/position`, { method: "POST",
    body: JSON.stringify(body) })
    .then(() => {
      $<HTMLElement>("[data-position]").textContent =
        `${t("unit.position_sent")} ${formatTime(new Date())}`;
    })
    .catch(() => { lastPing = 0; });
}

function startTracking(): void {
  if (!("geolocation" in navigator)) {
    $<HTMLElement>("[data-position]").textContent = t("unit.no_geolocation");
    return;
  }
  if (watchId !== null) return;
  watchId = navigator.geolocation.watchPosition(ping, () => {
    $<HTMLElement>("[data-position]").textContent = t("unit.no_geolocation");
  }, { enableHighAccuracy: true, maximumAge: 5000 });
}

async function startConsole(): Promise<void> {
  await poll();
  startTracking();
}

function start(): void {
  for (const action of ["accept", "decline", "on-scene"]) {
    $<HTMLButtonElement>(`[data-action="${action}"]`).addEventListener("click",
      () => void answer(action));
  }
  $<HTMLButtonElement>('[data-action="finish"]').addEventListener("click",
    () => void answer("close"));
  $<HTMLButtonElement>('[data-action="duty"]').addEventListener("click", () => {
    if (me === null) return;
    api(`/api/v1/dispatch/units/${me.unit.id}/duty`, { method: "POST",
      body: JSON.stringify({ on_duty: me.unit.status === "off_duty" }) })
      .then(() => poll())
      .catch((error: unknown) => say("offer", `${t("dispatch.action_failed")} ${failure(error)}`));
  });
  staff = mountStaffLogin({ root, roles: ["unit"], onSignedIn: startConsole, onSignedOut: stopDuty });
}

/** Stop polling and position pings (sign-out, or the session ended). */
function stopDuty(): void {
  window.clearTimeout(pollTimer);
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
}

start();
