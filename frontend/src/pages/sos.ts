/**
 * Silent SOS page (citizen, no account).
 *
 * Discreet by default: dark screen, no sound, no vibration (nothing here calls audio or
 * navigator.vibrate), and a "hide" button that swaps in a neutral page at once.
 *
 * Never losing an SOS: the request body, with a `client_id` generated once, is kept in
 * localStorage *before* the first try; until the server acknowledges it (201, or 200 for a
 * retry it already has) the page retries with the same `client_id`, also after a reload.
 * After the acknowledgement the follow-up token (kept only on this phone) opens a silent chat,
 * polled every few seconds, and the position is sent again when it changes (the trail).
 *
 * A tap never does nothing: without a position yet (no GPS, permission refused, indoors), the
 * SOS leaves at once marked "position unknown" (the dispatcher sees it apart and asks where),
 * and the "I am at…" map opens in view under the acknowledgement; the first point the phone
 * finds, or a tap on that map, is sent at once and places the SOS for dispatch. After sending,
 * a false alarm is cancelled in the chat, so the dispatcher reads it where they already look.
 */
import "leaflet/dist/leaflet.css";
import "../styles/base.css";
import "../styles/sos.css";
import * as L from "leaflet";
import { addBaseMap } from "../lib/basemap";
import { attachAddressSearch } from "../lib/geo-search";
import { formatTime, messagesFrom } from "../lib/i18n";

interface Fix {
  lat: number;
  lon: number;
  accuracy_m: number;
}
interface SosBody extends Partial<Fix> {
  position_unknown?: boolean;
  situation: string;
  people?: number;
  text?: string;
  client_id: string;
}
interface Ack {
  id: string;
  follow_up_token: string;
  received_at: string;
}
interface Message {
  id: string;
  sender: "citizen" | "dispatcher";
  text: string;
  at: string;
}
interface Stored {
  body?: SosBody;
  ack?: Ack;
}

const STORE = "tocsin.sos";
const DEVICE = "tocsin.device";
const POLL_MS = 4000;
const TRAIL_MS = 20000;
const PARIS: L.LatLngTuple = [48.8566, 2.3522];

const app = document.querySelector<HTMLElement>("[data-sos-app]");
const neutral = document.querySelector<HTMLElement>("[data-neutral]");

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function load(): Stored {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? "{}") as Stored;
  } catch {
    return {};
  }
}

function save(state: Stored): void {
  localStorage.setItem(STORE, JSON.stringify(state));
}

function deviceToken(): string {
  let token = localStorage.getItem(DEVICE);
  if (token === null) {
    token = randomId();
    localStorage.setItem(DEVICE, token);
  }
  return token;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => window.setTimeout(done, ms));

function start(root: HTMLElement): void {
  const t = messagesFrom(root);
  const $ = <T extends HTMLElement>(selector: string): T => {
    const el = root.querySelector<T>(selector);
    if (el === null) throw new Error(`missing ${selector}`);
    return el;
  };
  const views = root.querySelectorAll<HTMLElement>("[data-view]");
  const show = (name: string): void => {
    for (const view of views) view.hidden = view.dataset.view !== name;
  };
  const positionLine = $<HTMLElement>("[data-position]");
  let fix: Fix | null = null;
  let manual = false;
  let lastSent: Fix | null = null;
  // Set once the SOS is acknowledged: sends the current position now (a first one matters).
  let pushPosition: (() => void) | null = null;
  let map: L.Map | null = null;
  let marker: L.CircleMarker | null = null;

  const showFix = (): void => {
    if (fix === null) return;
    positionLine.textContent = manual
      ? t("sos.manual_set")
      : `${t("sos.located")} ±${Math.round(fix.accuracy_m)} m`;
    if (map !== null) {
      const at: L.LatLngTuple = [fix.lat, fix.lon];
      if (marker === null) marker = L.circleMarker(at, { radius: 8 }).addTo(map);
      else marker.setLatLng(at);
    }
  };

  if ("geolocation" in navigator) {
    navigator.geolocation.watchPosition(
      (pos) => {
        if (manual) return;
        fix = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: pos.coords.accuracy };
        showFix();
        if (lastSent === null) pushPosition?.();
      },
      () => {
        if (fix === null) positionLine.textContent = t("sos.no_position");
      },
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 },
    );
  } else {
    positionLine.textContent = t("sos.no_position");
  }

  // "I am at…": a small map on the embedded base map (or the deployment's tiles), with an
  // offline address search; a tap, or a confirmed search result, places the SOS.
  const details = $<HTMLDetailsElement>("[data-manual]");
  details.addEventListener("toggle", () => {
    if (!details.open || map !== null) return;
    const mapEl = $<HTMLElement>("[data-map]");
    const here = L.map(mapEl, { attributionControl: false }).setView(
      fix !== null ? [fix.lat, fix.lon] : PARIS,
      15,
    );
    map = here;
    addBaseMap(here, root.dataset.tilesUrl ?? "", "night");
    const place = (lat: number, lon: number, accuracy: number): void => {
      manual = true;
      fix = { lat, lon, accuracy_m: accuracy };
      showFix();
      pushPosition?.();
    };
    here.on("click", (e: L.LeafletMouseEvent) => place(e.latlng.lat, e.latlng.lng, 50));
    // A street's point stands for the whole street: say so in the accuracy sent to dispatch.
    attachAddressSearch(here, mapEl, (hit) => place(hit.lat, hit.lon, hit.kind === "address" ? 15 : 100));
    showFix();
  });

  const chat = $<HTMLOListElement>("[data-chat]");
  const chatStatus = $<HTMLElement>("[data-chat-status]");
  const render = (messages: Message[]): void => {
    chat.replaceChildren(
      ...messages.map((m) => {
        const item = document.createElement("li");
        item.className = `sos-msg sos-msg-${m.sender}`;
        const who = document.createElement("span");
        who.className = "sos-msg-who";
        who.textContent = `${m.sender === "citizen" ? t("sos.you") : t("sos.dispatcher")} · ${formatTime(new Date(m.at))}`;
        const text = document.createElement("span");
        text.textContent = m.text; // textContent: a message is never HTML
        item.append(who, text);
        return item;
      }),
    );
  };

  const followUp = (ack: Ack): void => {
    const headers = { "X-Follow-Up-Token": ack.follow_up_token, "Content-Type": "application/json" };
    const base = `/api/v1/sos/${encodeURIComponent(ack.id)}`;
    $<HTMLElement>("[data-ack]").textContent =
      `${t("sos.received")} ${formatTime(new Date(ack.received_at))}. ${t("sos.ref")} ${ack.id.slice(0, 8)}`;
    show("sent");
    // The map may have been opened while its view was hidden (sent without a position).
    window.requestAnimationFrame(() => map?.invalidateSize());
    let closed = false;
    let asked = 0; // the latest read's ticket
    const poll = async (): Promise<void> => {
      const ticket = (asked += 1);
      try {
        const response = await fetch(`${base}/follow-up`, { headers, cache: "no-store" });
        if (!response.ok) return;
        const state = (await response.json()) as { status: string; messages: Message[] };
        // A timed read sent before the caller's message can answer after the read made once it
        // was sent: drawn last, it would take the caller's own words off the screen.
        if (ticket !== asked) return;
        render(state.messages);
        if (state.status === "closed") {
          closed = true;
          chatStatus.textContent = t("sos.closed");
          $<HTMLFormElement>("[data-chat-form]").hidden = true;
          $<HTMLButtonElement>("[data-false-alarm]").hidden = true;
        }
      } catch {
        /* offline: the next poll tries again */
      }
    };
    void poll();
    const poller = window.setInterval(() => (closed ? window.clearInterval(poller) : void poll()), POLL_MS);
    const sendPosition = (): void => {
      const now = fix;
      if (now === null || (lastSent !== null && now.lat === lastSent.lat && now.lon === lastSent.lon)) return;
      lastSent = now;
      void fetch(`${base}/positions`, { method: "POST", headers, body: JSON.stringify(now) }).then((r) => {
        if (!r.ok) lastSent = null;
        else $<HTMLElement>("[data-where]").textContent = t("sos.position_sent");
      }).catch(() => {
        lastSent = null;
      });
    };
    pushPosition = sendPosition;
    const trail = window.setInterval(() => {
      if (closed) return window.clearInterval(trail);
      sendPosition();
    }, TRAIL_MS);
    const cancel = $<HTMLButtonElement>("[data-false-alarm]");
    cancel.addEventListener("click", () => {
      // Two taps: a pocket or a shaking hand must not cancel a real alert.
      if (cancel.dataset.confirm !== "true") {
        cancel.dataset.confirm = "true";
        cancel.textContent = t("sos.false_alarm_confirm");
        return;
      }
      cancel.disabled = true;
      void fetch(`${base}/messages`, { method: "POST", headers,
        body: JSON.stringify({ text: t("sos.false_alarm_text") }) })
        .then((response) => {
          if (!response.ok) throw new Error(String(response.status));
          chatStatus.textContent = t("sos.false_alarm_sent");
          cancel.hidden = true;
          return poll();
        })
        .catch(() => {
          cancel.disabled = false;
          chatStatus.textContent = t("sos.chat_failed");
        });
    });
    $<HTMLFormElement>("[data-chat-form]").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $<HTMLInputElement>("#sos-chat-input");
      const text = input.value.trim();
      if (text === "") return;
      void (async () => {
        for (let attempt = 0; attempt < 20; attempt += 1) {
          try {
            const response = await fetch(`${base}/messages`, { method: "POST", headers, body: JSON.stringify({ text }) });
            if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) break;
          } catch {
            /* retry below */
          }
          chatStatus.textContent = t("sos.chat_failed");
          await sleep(2000);
        }
        chatStatus.textContent = "";
        input.value = "";
        await poll();
      })();
    });
  };

  /** Post the kept SOS until the server acknowledges it; the same client_id every time. */
  const deliver = async (body: SosBody): Promise<void> => {
    show("pending");
    const line = $<HTMLElement>("[data-pending]");
    line.textContent = t("sos.sending");
    let wait = 1000;
    for (;;) {
      let retryAfter = 0;
      try {
        const response = await fetch("/api/v1/sos", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Device-Token": deviceToken() },
          body: JSON.stringify(body),
        });
        if (response.status === 200 || response.status === 201) {
          const ack = (await response.json()) as Ack;
          save({ ack });
          followUp(ack);
          return;
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          const problem = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
          save({});
          show("compose");
          positionLine.textContent = `${t("sos.refused")} ${problem.error?.message ?? response.status}`;
          return;
        }
        retryAfter = Number(response.headers.get("Retry-After") ?? "0") * 1000;
      } catch {
        /* no network: keep the SOS and try again */
      }
      line.textContent = t("sos.retrying");
      await sleep(Math.max(wait, retryAfter));
      wait = Math.min(wait * 2, 10000);
    }
  };

  $<HTMLButtonElement>("[data-send]").addEventListener("click", () => {
    const form = root.querySelector<HTMLInputElement>("input[name=situation]:checked");
    const people = Number($<HTMLInputElement>("#sos-people").value);
    const text = $<HTMLTextAreaElement>("#sos-text").value.trim();
    const body: SosBody = { situation: form?.value ?? "other", client_id: randomId() };
    if (fix !== null) {
      Object.assign(body, { lat: fix.lat, lon: fix.lon, accuracy_m: Math.max(0, fix.accuracy_m) });
      lastSent = fix;
    } else {
      // No position yet: the SOS leaves now, "position unknown"; the map opens under the
      // acknowledgement so the first point (phone or tap) follows at once.
      body.position_unknown = true;
      const where = $<HTMLElement>("[data-where]");
      where.hidden = false;
      where.after(details);
      details.open = true;
    }
    if (Number.isInteger(people) && people > 0) body.people = people;
    if (text !== "") body.text = text;
    save({ body }); // kept before the first try: a reload or a lost network loses nothing
    void deliver(body);
  });

  // One tap hides everything behind a neutral page; a double tap on its title comes back.
  $<HTMLButtonElement>("[data-hide]").addEventListener("click", () => {
    root.hidden = true;
    if (neutral !== null) neutral.hidden = false;
    document.title = neutral?.querySelector("h1")?.textContent ?? "Notes";
  });
  neutral?.querySelector("[data-unhide]")?.addEventListener("dblclick", () => {
    neutral.hidden = true;
    root.hidden = false;
  });

  const stored = load();
  if (stored.ack !== undefined) followUp(stored.ack);
  else if (stored.body !== undefined) void deliver(stored.body);
}

if (app !== null) start(app);
