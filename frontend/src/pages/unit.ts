/**
 * The field unit's page: its status, the mission offered (accept / decline before the
 * deadline), on scene, finish, and position pings from the phone's geolocation.
 *
 * An offer says where and what, for a crew in a moving car: situation, people waiting, the
 * caller's latest words (an audited read, asked once per offer and every 30 s), a countdown to
 * the deadline, a `geo:` link that opens the phone's navigation app, and a map with the line
 * from the unit to the SOS. A new offer vibrates and beeps where the browser allows it (sound
 * needs an earlier tap on the page: the sign-in or the duty button unlocks it).
 *
 * The page polls its own state every two seconds rather than holding a stream: a patrol's
 * phone roams between cells, and a poll that fails simply succeeds on the next tick.
 */
import "leaflet/dist/leaflet.css";
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/dispatch.css";
import * as L from "leaflet";
import { addBaseMap } from "../lib/basemap";
import { nearestStreet } from "../lib/geo-search";
import { formatTime, messagesFrom, pageLang } from "../lib/i18n";
import { mapText } from "../lib/map-text";
import { ApiFailure, api, currentToken, mountStaffLogin, type StaffLogin } from "../lib/staff";

interface Unit {
  id: string;
  callsign: string;
  status: string;
  lat: number | null;
  lon: number | null;
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
  lat: number;
  lon: number;
}
interface Brief {
  people: number | null;
  latest_text: string | null;
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
let map: L.Map | null = null;
let routeLine: L.Polyline | null = null;
let unitDot: L.CircleMarker | null = null;
let sosDot: L.CircleMarker | null = null;
let countdown: number | undefined;
let briefed: { id: string; at: number } | null = null;
let announced: string | null = null;
let audio: AudioContext | null = null;
const BRIEF_MS = 30_000;

/** Created on a tap (sign-in, duty): browsers only let a page make sound after one. */
function unlockSound(): void {
  if (audio === null && "AudioContext" in window) audio = new AudioContext();
  void audio?.resume();
}

function alertNewOffer(): void {
  navigator.vibrate?.([400, 150, 400, 150, 400]);
  if (audio === null || audio.state !== "running") return;
  for (const [start, freq] of [[0, 880], [0.25, 660], [0.5, 880]] as const) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.value = 0.3;
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + start);
    osc.stop(audio.currentTime + start + 0.2);
  }
}

function tick(deadline: string | null): void {
  window.clearInterval(countdown);
  const line = $<HTMLElement>("[data-offer-deadline]");
  if (deadline === null) { line.replaceChildren(); return; }
  const end = Date.parse(deadline);
  const show = (): void => {
    const left = Math.ceil((end - Date.now()) / 1000);
    const big = document.createElement("span");
    big.textContent = left > 0 ? t("unit.countdown").replace("{s}", String(left)) : t("unit.too_late");
    const small = document.createElement("small");
    small.textContent = `${t("unit.deadline")} ${formatTime(new Date(end))}`;
    line.replaceChildren(big, small);
    line.dataset.left = String(Math.max(0, left));
    line.classList.toggle("is-urgent", left <= 10);
  };
  show();
  countdown = window.setInterval(show, 500);
}

function drawMap(unit: Unit, incident: Incident): void {
  const el = $<HTMLElement>("[data-map]");
  if (map === null) {
    map = L.map(el, { attributionControl: false, maxZoom: 19 });
    addBaseMap(map, root.dataset.tilesUrl ?? "");
  }
  const target: L.LatLngTuple = [incident.lat, incident.lon];
  if (sosDot === null) {
    sosDot = L.circleMarker(target, { radius: 9, color: "#b42318", fillOpacity: 0.9 })
      .bindTooltip(mapText(t("unit.sos_place")), { permanent: true, direction: "right" }).addTo(map);
  } else sosDot.setLatLng(target);
  routeLine?.remove();
  routeLine = null;
  if (unit.lat !== null && unit.lon !== null) {
    const here: L.LatLngTuple = [unit.lat, unit.lon];
    if (unitDot === null) {
      unitDot = L.circleMarker(here, { radius: 8, color: "#0b5cad", fillOpacity: 0.9 })
        .bindTooltip(mapText(t("unit.you")), { permanent: true, direction: "left" }).addTo(map);
    } else unitDot.setLatLng(here);
    routeLine = L.polyline([here, target], { color: "#0b5cad", weight: 4, dashArray: "8 6",
      className: "unit-route" }).addTo(map);
    map.fitBounds(L.latLngBounds([here, target]), { padding: [40, 40], maxZoom: 17 });
  } else {
    map.setView(target, 16);
  }
  map.invalidateSize();
}

async function loadBrief(assignmentId: string): Promise<void> {
  briefed = { id: assignmentId, at: Date.now() };
  try {
    const brief = await api<Brief>(`/api/v1/dispatch/assignments/${assignmentId}/brief`);
    $<HTMLElement>("[data-offer-people]").textContent =
      brief.people === null ? t("unit.people_unknown") : String(brief.people);
    $<HTMLElement>("[data-offer-text]").textContent = brief.latest_text ?? t("unit.no_words");
  } catch {
    briefed = null; // try again on the next poll
  }
}

/**
 * "Where": the nearest named street of the embedded map (reverse geocoding, offline), shown
 * first among the offer's facts. Added here rather than in the template: the same fact, in
 * both languages, wherever the offer is drawn.
 */
function showAddress(lat: number, lon: number): void {
  const en = pageLang() === "en";
  let dd = root.querySelector<HTMLElement>("[data-offer-address]");
  if (dd === null) {
    const facts = root.querySelector<HTMLElement>(".offer-facts");
    if (facts === null) return;
    const row = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = en ? "Address (approx.)" : "Adresse (approx.)";
    dd = document.createElement("dd");
    dd.dataset.offerAddress = "";
    row.append(dt, dd);
    facts.prepend(row);
  }
  const target = dd;
  const key = `${lat.toFixed(5)},${lon.toFixed(5)}`;
  if (target.dataset.for === key) return;
  target.dataset.for = key;
  target.textContent = "…";
  nearestStreet(lat, lon)
    .then((street) => {
      if (target.dataset.for !== key) return;
      target.textContent = street === null
        ? (en ? "no named street nearby in the embedded map" : "aucune rue nommée à proximité dans la carte embarquée")
        : `${street.name}, ${street.area} (${en ? "within" : "à"} ${street.metres} m)`;
    })
    .catch(() => {
      target.textContent = en ? "address unavailable" : "adresse indisponible";
    });
}

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
    tick(null);
    briefed = null;
    return;
  }
  if (offer.status === "offered" && announced !== offer.id) {
    announced = offer.id;
    alertNewOffer();
  }
  $<HTMLElement>("[data-offer-alert]").hidden = offer.status !== "offered";
  if (briefed === null || briefed.id !== offer.id || Date.now() - briefed.at > BRIEF_MS) {
    if (briefed?.id !== offer.id) {
      $<HTMLElement>("[data-offer-people]").textContent = "…";
      $<HTMLElement>("[data-offer-text]").textContent = "…";
    }
    void loadBrief(offer.id);
  }
  const { lat, lon } = state.incident;
  // geo: opens the phone's navigation app on the SOS point (RFC 5870; "q" puts a pin there).
  $<HTMLAnchorElement>("[data-nav]").href = `geo:${lat.toFixed(6)},${lon.toFixed(6)}?q=${lat.toFixed(6)},${lon.toFixed(6)}`;
  drawMap(state.unit, state.incident);
  showAddress(lat, lon);
  const offered = offer.status === "offered";
  $<HTMLElement>("[data-offer-title]").textContent =
    offered ? t("unit.offer_title") : t("unit.mission_title");
  const km = offer.distance_m < 1000 ? `${Math.round(offer.distance_m)} m`
    : `${(offer.distance_m / 1000).toFixed(1)} km`;
  $<HTMLElement>("[data-offer-summary]").textContent =
    `${t(`dispatch.situation.${state.incident.situation}`)} · ${state.incident.sos_count} ` +
    `${t("dispatch.sos_count")} · ${t("dispatch.distance")} ${km} · ${t("dispatch.eta")} ` +
    `${Math.max(1, Math.round(offer.eta_s / 60))} min · ${t(`dispatch.status.${offer.status}`)}`;
  if (offered) {
    if ($<HTMLElement>("[data-offer-deadline]").dataset.for !== offer.id) tick(offer.deadline_at);
    $<HTMLElement>("[data-offer-deadline]").dataset.for = offer.id;
  } else {
    tick(null);
    $<HTMLElement>("[data-offer-deadline]").dataset.for = "";
  }
  $<HTMLButtonElement>('[data-action="accept"]').hidden = !offered;
  $<HTMLButtonElement>('[data-action="decline"]').hidden = !offered;
  $<HTMLButtonElement>('[data-action="on-scene"]').hidden = offer.status !== "accepted";
  $<HTMLButtonElement>('[data-action="finish"]').hidden =
    !["accepted", "on_scene"].includes(offer.status);
}

let polled = 0; // the latest read's ticket

async function poll(): Promise<void> {
  window.clearTimeout(pollTimer);
  const ticket = (polled += 1);
  try {
    const now = await api<Me>("/api/v1/dispatch/units/me");
    // The crew answered the offer while this read was on its way: the read made after the
    // answer is the true state (and keeps the timer); this older one would show the offer again.
    if (ticket !== polled) return;
    render(now);
  } catch (error) {
    if (ticket !== polled) return;
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
    unlockSound();
    if (me === null) return;
    api(`/api/v1/dispatch/units/${me.unit.id}/duty`, { method: "POST",
      body: JSON.stringify({ on_duty: me.unit.status === "off_duty" }) })
      .then(() => poll())
      .catch((error: unknown) => say("offer", `${t("dispatch.action_failed")} ${failure(error)}`));
  });
  root.querySelector('[data-form="login"]')?.addEventListener("submit", unlockSound);
  staff = mountStaffLogin({ root, roles: ["unit"], onSignedIn: startConsole, onSignedOut: stopDuty });
}

/** Stop polling and position pings (sign-out, or the session ended). */
function stopDuty(): void {
  window.clearTimeout(pollTimer);
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
}

start();
