/**
 * The authority console's safety check (« point sécurité »): propose one over an area drawn on
 * its own map (address search included) and a time window, see it wait for a second
 * authority's approval, approve another's, close an open one. The routes are the safety
 * domain's (tocsin/safety/api.py); `call` carries the signed-in authority's token.
 */
import L from "leaflet";
import { createMap, el, fitWhenSized, formatDate } from "./alerts";
import { AreaDrawer } from "./area-draw";
import { attachAddressSearch } from "./geo-search";

interface Check {
  id: number;
  name: string;
  area: Record<string, unknown>;
  starts_at: string;
  ends_at: string;
  active: boolean;
  approved: boolean;
}

type Call = <T>(path: string, init?: RequestInit) => Promise<T>;
type Show = (target: HTMLElement, error: unknown) => void;

/** A check's area on a small map (the API stores GeoJSON order, [lon, lat], and metres). */
function drawCheck(target: HTMLElement, area: Record<string, unknown>, tiles: string): void {
  const map = createMap(target, tiles);
  const style = { color: "#000091", weight: 2, fillOpacity: 0.15 };
  let shape: L.Polygon | L.Circle | null = null;
  if (area.type === "polygon" && Array.isArray(area.coordinates)) {
    const ring = (area.coordinates as [number, number][]).map(([lo, la]): L.LatLngTuple => [la, lo]);
    shape = L.polygon(ring, style);
  } else if (area.type === "circle") {
    shape = L.circle([Number(area.lat), Number(area.lon)], { ...style, radius: Number(area.radius_m) });
  }
  if (!shape) return;
  shape.addTo(map);
  fitWhenSized(map, target, shape.getBounds(), 15);
}

export interface SafetyPanel {
  refresh(): Promise<void>;
  resize(): void;
}

function localInput(hoursAhead: number): string {
  const d = new Date(Date.now() + hoursAhead * 3600_000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export function mountSafetyChecks(
  section: HTMLElement,
  t: (key: string) => string,
  lang: string,
  tiles: string,
  call: Call,
  showError: Show,
): SafetyPanel {
  const $ = <E extends Element>(selector: string): E => section.querySelector(selector) as E;
  const form = $<HTMLFormElement>("[data-form=safety]");
  const message = $<HTMLElement>("[data-message=safety]");
  const summary = $<HTMLElement>("[data-safety-area-summary]");
  const mapEl = $<HTMLElement>("#safety-map");
  const map = createMap(mapEl, tiles);
  const drawer = new AreaDrawer(map, (d) => {
    const area = d.area();
    summary.textContent = area ? t("safety_panel.area_ok") : t("authority.area_none");
    for (const b of section.querySelectorAll<HTMLButtonElement>("[data-safety-draw=polygon],[data-safety-draw=circle]")) {
      b.setAttribute("aria-pressed", String(b.dataset.safetyDraw === d.mode));
    }
  });
  // The form is folded until the authority opens it: the map gets its size then, and its
  // address search is added then (one search box on the page while composing an alert).
  const fold = $<HTMLDetailsElement>("[data-safety-fold]");
  let searchable = false;
  fold.addEventListener("toggle", () => {
    if (!fold.open) return;
    map.invalidateSize();
    if (!searchable) {
      searchable = true;
      attachAddressSearch(map, mapEl, (hit) => drawer.centreAt(hit.lat, hit.lon), { zoom: 15 });
    }
  });
  for (const b of section.querySelectorAll<HTMLButtonElement>("[data-safety-draw]")) {
    b.addEventListener("click", () => {
      const action = b.dataset.safetyDraw;
      if (action === "polygon" || action === "circle") drawer.start(action);
      else if (action === "finish") drawer.finish();
      else drawer.clear();
    });
  }
  const ends = form.elements.namedItem("ends") as HTMLInputElement;
  ends.value = localInput(6);

  // The safety API takes GeoJSON order ([lon, lat]) and metres; the drawer gives [lat, lon], km.
  function area(): Record<string, unknown> | null {
    const drawn = drawer.area();
    if (!drawn) return null;
    if ("polygon" in drawn) {
      return { type: "polygon", coordinates: drawn.polygon.slice(0, -1).map(([la, lo]) => [lo, la]) };
    }
    const c = drawn.circle;
    return { type: "circle", lat: c.lat, lon: c.lon, radius_m: Math.max(50, Math.round(c.radius_km * 1000)) };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const drawn = area();
    if (!drawn) {
      message.classList.add("alert-message-error");
      message.textContent = t("safety_panel.need_area");
      return;
    }
    const name = String(new FormData(form).get("name") ?? "").trim();
    void (async () => {
      try {
        await call("/api/v1/safety/checks", {
          method: "POST",
          body: JSON.stringify({ name, area: drawn, ends_at: new Date(ends.value).toISOString() }),
        });
        form.reset();
        ends.value = localInput(6);
        drawer.clear();
        // After the list shows the new check, so that the refresh does not clear what is said.
        await refresh();
        message.classList.remove("alert-message-error");
        message.textContent = t("safety_panel.proposed");
      } catch (error) {
        showError(message, error);
      }
    })();
  });

  function row(list: HTMLElement, check: Check, pending: boolean): void {
    const item = el(list, "li", "", "alert-card");
    item.dataset.checkId = String(check.id);
    const tags = el(item, "p", "", "alert-card-tags");
    el(tags, "span", pending ? t("safety_panel.pending") : t("safety_panel.open"),
      pending ? "alert-badge safety-pending" : "alert-badge safety-open");
    el(item, "h3", check.name);
    el(item, "p", t("safety_panel.window")
      .replace("{start}", formatDate(check.starts_at, lang))
      .replace("{end}", formatDate(check.ends_at, lang)), "alert-meta");
    if (pending) el(item, "p", t("safety_panel.pending_help"), "alert-help");
    drawCheck(el(item, "div", "", "alert-map alert-map-mini"), check.area, tiles);
    const actions = el(item, "div", "", "alert-toolbar");
    const note = el(item, "div", "", "alert-message");
    note.setAttribute("role", "alert");
    const act = (label: string, path: string, secondary: boolean): void => {
      const b = el(actions, "button", label, secondary ? "alert-btn alert-btn-secondary" : "alert-btn");
      b.type = "button";
      b.addEventListener("click", () => {
        b.disabled = true;
        void call(path, { method: "POST" })
          .then(() => refresh())
          .catch((error: unknown) => showError(note, error))
          .finally(() => {
            b.disabled = false;
          });
      });
    };
    if (pending) act(t("safety_panel.approve"), `/api/v1/safety/checks/${check.id}/approve`, false);
    else act(t("safety_panel.end"), `/api/v1/safety/checks/${check.id}/end`, true);
  }

  let last = "";
  // Cleared once the list changes: "waiting for approval" must not outlive the wait.
  const clearMessage = (): void => {
    message.textContent = "";
  };
  let asked = 0; // the latest read's ticket
  async function refresh(): Promise<void> {
    const ticket = (asked += 1);
    const [pending, open] = await Promise.all([
      call<Check[]>("/api/v1/safety/checks/pending"),
      call<Check[]>("/api/v1/safety/checks"),
    ]);
    // A read started before an approval must not bring the approved check back as pending.
    if (ticket !== asked) return;
    const key = JSON.stringify([pending.map((c) => c.id), open.map((c) => c.id)]);
    if (key === last) return;
    if (last !== "") clearMessage();
    last = key;
    const list = $<HTMLElement>("[data-safety-list]");
    list.replaceChildren();
    $<HTMLElement>("[data-safety-empty]").hidden = pending.length + open.length > 0;
    for (const check of pending) row(list, check, true);
    for (const check of open) row(list, check, false);
  }

  return {
    refresh,
    resize: () => {
      if (fold.open) map.invalidateSize();
    },
  };
}
