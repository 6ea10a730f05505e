/**
 * Shelter page (#portesouvertes): hosts offer places, seekers ask, nobody's address is public.
 *
 * The map shows only what the API gives: coarse H3 cells (hexagons of about 0.7 km²). The
 * management and request tokens stay in this browser (localStorage) and in links whose
 * fragment (`#manage=…`, `#request=…`) is never sent to a server. The address appears only
 * in the seeker's panel, once the host accepted, and only after the API audited the reveal.
 */
import "leaflet/dist/leaflet.css";
import "../styles/base.css";
import "../styles/shelter.css";
import * as L from "leaflet";
import { addBaseMap } from "../lib/basemap";
import { attachAddressSearch } from "../lib/geo-search";
import { formatTime, messagesFrom } from "../lib/i18n";
import { mapText } from "../lib/map-text";
import {
  type Area,
  type HostRequest,
  type Proposal,
  type Secret,
  api,
  languagesOf,
  plural,
  recall,
  remember,
  whileVisible,
} from "../lib/shelter-api";
import { frenchDateTimes } from "../lib/datetime-field";

// Polite: one small request per panel every 10 s while the page is in view (none when hidden).
const POLL_MS = 10_000;
const MAX_LANGUAGES = 8;
const PARIS: L.LatLngTuple = [48.8566, 2.3522];
const app = document.querySelector<HTMLElement>("[data-shelter-app]");
// Date and time fields in French, 24 h, whatever the browser's locale (lib/datetime-field).
if (app) frenchDateTimes(app);

function $<T extends HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (el === null) throw new Error(`missing ${sel}`);
  return el;
}

function el(tag: string, cls: string, text = ""): HTMLElement {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.textContent = text;
  return node;
}

function start(root: HTMLElement): void {
  const t = messagesFrom(root);
  const map = L.map($("[data-map]", root), { attributionControl: false }).setView(PARIS, 13);
  addBaseMap(map, root.dataset.tilesUrl ?? "");
  const areasLayer = L.layerGroup().addTo(map);
  const proposalsLayer = L.featureGroup().addTo(map);
  const mine = L.layerGroup().addTo(map);
  let pickFor: HTMLElement | null = null;
  const mapNote = $("[data-map-note]", root);

  // Says the page is live (and when it last asked), in place of an "Actualiser" button.
  const stamp = (line: HTMLElement): void => {
    line.textContent = t("shelter.live").replace("{time}", formatTime(new Date()));
  };

  const fail = (slot: HTMLElement, error: unknown): void => {
    slot.hidden = false;
    slot.textContent = `${t("shelter.error")} ${error instanceof Error ? error.message : error}`;
  };
  /** Say what is missing before anything is sent; true when the form must not go. */
  const refused = (slot: HTMLElement, data: FormData, languages: number): boolean => {
    // An empty field reads as 0: a shelter in the Gulf of Guinea. Say what to do instead.
    if (String(data.get("lat") ?? "") === "" || String(data.get("lon") ?? "") === "") {
      fail(slot, t("shelter.position_missing"));
      return true;
    }
    if (languages > MAX_LANGUAGES) {
      fail(slot, t("shelter.languages_too_many"));
      return true;
    }
    return false;
  };
  const ok = (slot: HTMLElement): void => {
    slot.hidden = true;
    slot.textContent = "";
  };

  // --- positions: typed, located, or picked on the map (shown only to this user) ---
  function setPosition(box: HTMLElement, lat: number, lon: number): void {
    $<HTMLInputElement>("input[name=lat]", box).value = lat.toFixed(6);
    $<HTMLInputElement>("input[name=lon]", box).value = lon.toFixed(6);
    mine.clearLayers();
    L.circleMarker([lat, lon], { radius: 6, className: "shelter-me" }).addTo(mine);
    mapNote.textContent = t("shelter.position.set");
  }
  for (const box of root.querySelectorAll<HTMLElement>("[data-position-for]")) {
    $("[data-locate]", box).addEventListener("click", () => {
      navigator.geolocation.getCurrentPosition(
        (fix) => setPosition(box, fix.coords.latitude, fix.coords.longitude),
        () => (mapNote.textContent = t("shelter.geo.failed")),
        { enableHighAccuracy: true, timeout: 10000 },
      );
    });
    $("[data-pick]", box).addEventListener("click", () => {
      pickFor = box;
      mapNote.textContent = t("shelter.pick.hint");
      // On a phone the map is below the forms: bring it into view to be tapped.
      $("[data-map]", root).scrollIntoView({ behavior: "smooth", block: "center" });
    });
    // An address instead of raw coordinates: found offline, shown on the map, then confirmed.
    attachAddressSearch(map, box, (hit) => {
      setPosition(box, hit.lat, hit.lon);
      const address = box.closest("form")?.querySelector<HTMLInputElement>("input[name=address]");
      if (address && address.value.trim() === "") address.value = hit.label;
    });
  }
  map.on("click", (e: L.LeafletMouseEvent) => {
    if (pickFor === null) return;
    setPosition(pickFor, e.latlng.lat, e.latlng.lng);
    pickFor = null;
  });

  // --- the public map of coarse areas ---
  function cell(area: { boundary: number[][] }, cls: string): L.Polygon {
    const ring = area.boundary.map(([lat, lon]) => [lat, lon] as L.LatLngTuple);
    return L.polygon(ring, { className: cls });
  }
  // Tickets of the latest reads: the map moves, and polls cross the visitor's own clicks; an
  // older answer arriving last would draw a state already replaced (cells of another place, an
  // "ask" button for a request already made, a request already accepted still to answer).
  let areasAsked = 0;
  let offerAsked = 0;
  let requestsAsked = 0;
  let seekerAsked = 0;

  async function loadAreas(): Promise<void> {
    const ticket = (areasAsked += 1);
    const b = map.getBounds();
    if (b.getNorth() - b.getSouth() > 0.5 || b.getEast() - b.getWest() > 0.5) {
      areasLayer.clearLayers();
      mapNote.textContent = t("shelter.map.too_wide");
      return;
    }
    const q = new URLSearchParams({
      south: b.getSouth().toFixed(5), west: b.getWest().toFixed(5),
      north: b.getNorth().toFixed(5), east: b.getEast().toFixed(5),
    });
    const found = await api<{ areas: Area[] }>("GET", `/areas?${q}`);
    if (ticket !== areasAsked) return;
    areasLayer.clearLayers();
    for (const area of found.areas) {
      cell(area, "shelter-area")
        .bindTooltip(mapText(t(`shelter.offers_${area.offers === 1 ? "one" : "other"}`)
          .replace("{n}", String(area.offers))
          .replace("{places}", plural(t, "shelter.places", area.places))))
        .addTo(areasLayer);
    }
    root.dataset.areas = String(found.areas.length);
  }
  map.on("moveend", () => void loadAreas().catch(() => undefined));

  // --- host side ---
  const offerForm = $<HTMLFormElement>("[data-offer-form]", root);
  const hostPanel = $("[data-host-panel]", root);
  const hostError = $("[data-host-error]", root);
  const ends = $<HTMLInputElement>("input[name=ends_at]", offerForm);
  const tomorrow = new Date(Date.now() + 18 * 3600_000);
  ends.value = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000)
    .toISOString().slice(0, 16);

  // Language names in the page language ("anglais"), the code itself when not in the list.
  function names(codes: string[]): string {
    return codes.map((code) => {
      const name = t(`shelter.lang.${code}`);
      return name === `shelter.lang.${code}` ? code : name;
    }).join(", ");
  }

  function describe(p: { access: string; pets: boolean; languages: string[] }): string {
    return [t(`shelter.access.${p.access}`), p.pets ? t("shelter.pets") : t("shelter.no_pets"),
      `${t("shelter.languages")} : ${names(p.languages) || "—"}`].join(" · ");
  }

  async function refreshHost(host: Secret, full: boolean): Promise<void> {
    const headers = { "X-Manage-Token": host.token };
    if (full) {
      const ticket = (offerAsked += 1);
      const offer = await api<{ status: string; moderation: string; remaining: number;
        capacity: number; address: string; access: string; pets: boolean; languages: string[] }>(
        "GET", `/offers/${host.id}`, undefined, headers);
      if (ticket !== offerAsked) return;
      $("[data-offer-summary]", root).textContent = [
        offer.address, `${plural(t, "shelter.places", offer.remaining)} / ${offer.capacity}`,
        t(`shelter.status.${offer.status}`), describe(offer),
        offer.moderation === "ok" ? "" : t("shelter.host.hidden"),
      ].filter(Boolean).join(" · ");
      root.dataset.offerStatus = offer.status;
    }
    const ticket = (requestsAsked += 1);
    const list = await api<{ requests: HostRequest[] }>(
      "GET", `/offers/${host.id}/requests`, undefined, headers);
    if (ticket !== requestsAsked) return;
    const ul = $("[data-host-requests]", root);
    ul.replaceChildren();
    if (list.requests.length === 0) ul.append(el("li", "shelter-empty", t("shelter.host.none")));
    stamp($("[data-live-host]", root));
    for (const r of list.requests) {
      const li = el("li", "shelter-item");
      li.dataset.requestId = r.id;
      li.append(el("p", "shelter-item-title",
        `${plural(t, "shelter.people", r.people)} · ${t(`shelter.band.${r.distance_band}`)}`
        + ` · ${t(`shelter.status.${r.status}`)}`));
      li.append(el("p", "shelter-item-meta",
        [`${t("shelter.need")} : ${t(`shelter.need.${r.access_need}`)}`, r.pets ? t("shelter.pets") : "",
          names(r.languages), r.note ?? ""].filter(Boolean).join(" · ")));
      if (r.status === "asked") {
        for (const [verb, key] of [["accept", "shelter.host.accept"],
          ["decline", "shelter.host.decline"]] as const) {
          const button = el("button", verb === "accept" ? "shelter-button" : "shelter-button-secondary",
            t(key));
          button.dataset.hostAction = verb;
          button.addEventListener("click", () => void hostAct(host, `/requests/${r.id}/${verb}`));
          li.append(button);
        }
      }
      const report = el("button", "shelter-link", t("shelter.host.report"));
      report.addEventListener("click", () => void api("POST",
        `/offers/${host.id}/requests/${r.id}/report`, { reason: "other" }, headers)
        .then(() => refreshHost(host, false)).catch((e: unknown) => fail(hostError, e)));
      li.append(report);
      ul.append(li);
    }
  }

  async function hostAct(host: Secret, path: string): Promise<void> {
    try {
      await api("POST", `/offers/${host.id}${path}`, undefined, { "X-Manage-Token": host.token });
      ok(hostError);
      await refreshHost(host, true);
    } catch (error) {
      fail(hostError, error);
    }
  }

  function showHost(host: Secret): void {
    hostPanel.hidden = false;
    const link = $<HTMLAnchorElement>("[data-manage-link]", root);
    link.href = `/shelter#manage=${host.id}.${host.token}`;
    link.textContent = `${location.origin}/shelter#manage=${host.id}.…`;
    for (const button of root.querySelectorAll<HTMLElement>("[data-offer-action]")) {
      button.onclick = () => void hostAct(host, `/${button.dataset.offerAction}`);
    }
    void refreshHost(host, true).catch((e: unknown) => fail(hostError, e));
    // New requests show up by themselves (the list only: reading the address is audited).
    whileVisible(() => void refreshHost(host, false).catch(() => undefined), POLL_MS);
  }

  offerForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(offerForm);
    const body = {
      lat: Number(data.get("lat")), lon: Number(data.get("lon")),
      address: String(data.get("address") ?? ""),
      directions: String(data.get("directions") ?? "") || null,
      capacity: Number(data.get("capacity")),
      ends_at: new Date(String(data.get("ends_at"))).toISOString(),
      access: String(data.get("access")), pets: data.get("pets") !== null,
      languages: languagesOf(offerForm),
      note: String(data.get("note") ?? "") || null,
    };
    const slot = $("[data-error]", offerForm);
    if (refused(slot, data, body.languages.length)) return;
    api<{ id: string; manage_token: string }>("POST", "/offers", body)
      .then((made) => {
        ok(slot);
        const host = { id: made.id, token: made.manage_token };
        remember("offer", host);
        offerForm.hidden = true;
        if (recall("request") === undefined) root.dataset.role = "host";
        showHost(host);
        void loadAreas();
      })
      .catch((e: unknown) => fail(slot, e));
  });

  // --- seeker side ---
  const requestForm = $<HTMLFormElement>("[data-request-form]", root);
  const seekerPanel = $("[data-seeker-panel]", root);
  const seekerError = $("[data-seeker-error]", root);
  const statusLine = $("[data-request-status]", root);
  let stopSeeker = (): void => undefined;

  function renderProposals(seeker: Secret, proposals: Proposal[], asked: string | null): void {
    const ul = $("[data-proposals]", root);
    ul.replaceChildren();
    proposalsLayer.clearLayers();
    if (proposals.length === 0) ul.append(el("li", "shelter-empty", t("shelter.seek.none")));
    for (const p of proposals) {
      const li = el("li", "shelter-item");
      li.dataset.offerId = p.offer_id;
      li.append(el("p", "shelter-item-title",
        `${t(`shelter.band.${p.distance_band}`)} · ${plural(t, "shelter.places", p.remaining)}`));
      li.append(el("p", "shelter-item-meta", `${describe(p)} · ${t("shelter.until")} `
        + new Date(p.ends_at).toLocaleString(document.documentElement.lang)));
      if (p.note) li.append(el("p", "shelter-item-note", p.note));
      if (asked === null) {
        const button = el("button", "shelter-button", t("shelter.seek.ask"));
        button.dataset.ask = p.offer_id;
        button.addEventListener("click", () => void api("POST", `/requests/${seeker.id}/ask`,
          { offer_id: p.offer_id }, { "X-Request-Token": seeker.token })
          .then(() => refreshSeeker(seeker)).catch((e: unknown) => fail(seekerError, e)));
        li.append(button);
      } else {
        const report = el("button", "shelter-link", t("shelter.seek.report"));
        report.addEventListener("click", () => void api("POST", `/requests/${seeker.id}/report`,
          { offer_id: p.offer_id, reason: "other" }, { "X-Request-Token": seeker.token })
          .then(() => (statusLine.textContent = t("shelter.seek.reported")))
          .catch((e: unknown) => fail(seekerError, e)));
        li.append(report);
      }
      cell(p, "shelter-proposal").bindTooltip(mapText(t(`shelter.band.${p.distance_band}`)))
        .addTo(proposalsLayer);
      ul.append(li);
    }
    if (proposals.length > 0) {
      map.fitBounds(proposalsLayer.getBounds(), { padding: [40, 40], maxZoom: 14 });
    }
  }

  async function refreshSeeker(seeker: Secret): Promise<void> {
    const headers = { "X-Request-Token": seeker.token };
    const ticket = (seekerAsked += 1);
    const request = await api<{ status: string; offer: Proposal | null }>(
      "GET", `/requests/${seeker.id}`, undefined, headers);
    if (ticket !== seekerAsked) return;
    root.dataset.seekerStatus = request.status;
    const known: Record<string, string> = { open: "shelter.seek.open", asked: "shelter.seek.asked",
      accepted: "shelter.seek.accepted", declined: "shelter.seek.declined" };
    statusLine.textContent = t(known[request.status] ?? `shelter.status.${request.status}`);
    stamp($("[data-live-seeker]", root));
    const box = $("[data-address]", root);
    if (request.status === "accepted") {
      stopSeeker();
      const shown = await api<{ address: string; directions: string | null;
        directions_url: string }>("GET", `/requests/${seeker.id}/address`, undefined, headers);
      if (ticket !== seekerAsked) return;
      $("[data-address-text]", root).textContent = shown.address;
      $("[data-address-directions]", root).textContent = shown.directions ?? "—";
      $<HTMLAnchorElement>("[data-address-route]", root).href = shown.directions_url;
      box.hidden = false;
      renderProposals(seeker, request.offer ? [request.offer] : [], request.offer?.offer_id ?? "");
      return;
    }
    box.hidden = true;
    if (request.status === "asked" && request.offer) {
      renderProposals(seeker, [request.offer], request.offer.offer_id);
      return;
    }
    if (request.status === "open" || request.status === "declined") {
      const found = await api<{ proposals: Proposal[] }>(
        "GET", `/requests/${seeker.id}/proposals`, undefined, headers);
      if (ticket !== seekerAsked) return;
      renderProposals(seeker, found.proposals, null);
    }
  }

  function showSeeker(seeker: Secret): void {
    seekerPanel.hidden = false;
    requestForm.hidden = true;
    const tick = (): void => void refreshSeeker(seeker).then(() => ok(seekerError))
      .catch((e: unknown) => fail(seekerError, e));
    tick();
    stopSeeker();
    stopSeeker = whileVisible(tick, POLL_MS);
  }

  requestForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(requestForm);
    const body = {
      lat: Number(data.get("lat")), lon: Number(data.get("lon")),
      people: Number(data.get("people")), access_need: String(data.get("access_need")),
      pets: data.get("pets") !== null,
      languages: languagesOf(requestForm),
      note: String(data.get("note") ?? "") || null,
    };
    const slot = $("[data-error]", requestForm);
    if (refused(slot, data, body.languages.length)) return;
    api<{ id: string; token: string }>("POST", "/requests", body)
      .then((made) => {
        ok(slot);
        const seeker = { id: made.id, token: made.token };
        remember("request", seeker);
        showSeeker(seeker);
      })
      .catch((e: unknown) => fail(slot, e));
  });

  // --- start: secrets from a link's fragment, or from this browser's storage ---
  const fromLink = /^#(manage|request)=([0-9a-f]{32})\.([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (fromLink) {
    remember(fromLink[1] === "manage" ? "offer" : "request",
      { id: fromLink[2] ?? "", token: fromLink[3] ?? "" });
    history.replaceState(null, "", location.pathname + location.search);
  }
  // On a phone the host form is folded (one tap opens it) so that a person looking for a bed
  // does not scroll past it to reach the map; open on a wide screen or for a host's own offer.
  const fold = $<HTMLDetailsElement>("[data-host-fold]", root);
  fold.open = window.matchMedia("(min-width: 60rem)").matches;
  const host = recall("offer");
  if (host) {
    fold.open = true;
    // This browser hosts: its offer and the requests come first (unless it also seeks).
    if (recall("request") === undefined) root.dataset.role = "host";
    offerForm.hidden = true;
    showHost(host);
  }
  const seeker = recall("request");
  if (seeker) showSeeker(seeker);
  void loadAreas().catch(() => undefined);
  // The public map of areas follows new and closed offers too.
  whileVisible(() => void loadAreas().catch(() => undefined), POLL_MS * 3);
  root.dataset.ready = "true";
}

if (app !== null) start(app);
