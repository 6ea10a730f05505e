/**
 * The console's map: SOS in clusters (leaflet.markercluster: 300 calls from one hall read as
 * one "300", not a pile of dots), incidents as dashed circles, units as labelled dots whose
 * labels never pile up (`declutter`), and the trail of the SOS being read.
 *
 * Markers of a burst are queued and added to the cluster layer in one batch per frame
 * (`flush`), not one by one. Every label goes through `mapText`.
 */
import * as L from "leaflet";
import "leaflet.markercluster";
import { addBaseMap } from "./basemap";
import { mapText } from "./map-text";

const PARIS: L.LatLngTuple = [48.8566, 2.3522];
const UNIT_COLOURS: Record<string, string> = {
  available: "#1a7f37", offered: "#b35900", assigned: "#0b5cad", on_scene: "#6639ba",
  off_duty: "#6e7781",
};
// Labels kept first when they compete for room: units on a mission before available ones.
const UNIT_ORDER = ["on_scene", "assigned", "offered", "available", "off_duty"];
// leaflet.markercluster extends the global L that Leaflet's own bundle sets on window.
const LL = (window as unknown as { L: typeof L }).L;

export interface UnitPoint { id: string; status: string; lat: number | null; lon: number | null }

export class ConsoleMap {
  private map: L.Map | null = null;
  private readonly sosCluster = LL.markerClusterGroup({ chunkedLoading: true,
    maxClusterRadius: 50, showCoverageOnHover: false });
  private readonly incidentLayer = L.layerGroup();
  // Units are few and their labels are what a dispatcher looks for: never folded into a count.
  private readonly unitLayer = L.layerGroup();
  private readonly sosMarkers = new Map<string, L.CircleMarker>();
  private readonly pending: L.CircleMarker[] = [];
  private readonly unitMarkers = new Map<string, L.CircleMarker>();
  private trail: L.Polyline | null = null;
  private mergeLayer: L.LayerGroup | null = null;

  constructor(private readonly el: HTMLElement, private readonly tiles: string,
    private readonly changed: () => void) {}

  ensure(): L.Map {
    if (this.map !== null) return this.map;
    const map = L.map(this.el, { attributionControl: false, maxZoom: 19 }).setView(PARIS, 13);
    addBaseMap(map, this.tiles);
    this.incidentLayer.addTo(map);
    this.sosCluster.addTo(map);
    this.unitLayer.addTo(map);
    // Clusters are redrawn after a zoom or pan (markercluster's animationend): declutter again.
    map.on("zoomend moveend", this.changed);
    this.sosCluster.on("animationend", this.changed);
    this.map = map;
    return map;
  }

  get sosCount(): number {
    return this.sosMarkers.size;
  }

  addSos(id: string, lat: number, lon: number, open: () => void): void {
    const marker = L.circleMarker([lat, lon], { radius: 6, color: "#b42318", weight: 2,
      fillOpacity: 0.9, className: "sos-marker" });
    marker.on("click", open);
    this.sosMarkers.set(id, marker);
    this.pending.push(marker);
  }

  moveSos(id: string, lat: number, lon: number): void {
    this.sosMarkers.get(id)?.setLatLng([lat, lon]);
  }

  removeSos(id: string): void {
    const marker = this.sosMarkers.get(id);
    if (marker) this.sosCluster.removeLayer(marker);
    this.sosMarkers.delete(id);
  }

  /** Add the markers queued since the last frame, in one batch. */
  flush(): void {
    if (this.pending.length > 0) this.sosCluster.addLayers(this.pending.splice(0));
    this.el.dataset.sosCount = String(this.sosMarkers.size);
  }

  placeUnit(unit: UnitPoint, label: string): void {
    if (unit.lat === null || unit.lon === null) return;
    const colour = UNIT_COLOURS[unit.status] ?? "#6e7781";
    let marker = this.unitMarkers.get(unit.id);
    if (marker) {
      marker.setLatLng([unit.lat, unit.lon]).setStyle({ color: colour, fillColor: colour });
      marker.setTooltipContent(mapText(label));
    } else {
      marker = L.circleMarker([unit.lat, unit.lon], { radius: 7, color: colour,
        fillColor: colour, fillOpacity: 0.8, className: "unit-marker" })
        .bindTooltip(mapText(label), { permanent: true, direction: "right",
          className: "unit-label" });
      this.unitLayer.addLayer(marker);
      this.unitMarkers.set(unit.id, marker);
    }
    const el = marker.getTooltip()?.getElement();
    if (el) el.dataset.status = unit.status;
    this.changed();
  }

  /**
   * Labels never pile up: a unit label that would overlap a cluster's count or a label already
   * kept is hidden (the unit stays a dot, and is named in the unit list); zooming in shows it.
   */
  declutter(): void {
    const taken: DOMRect[] = [...this.el.querySelectorAll(".marker-cluster")]
      .map((el) => el.getBoundingClientRect());
    const labels = [...this.el.querySelectorAll<HTMLElement>(".unit-label")]
      .sort((a, b) => UNIT_ORDER.indexOf(a.dataset.status ?? "") -
        UNIT_ORDER.indexOf(b.dataset.status ?? ""));
    const overlaps = (a: DOMRect, b: DOMRect): boolean =>
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    for (const label of labels) {
      label.classList.remove("label-hidden");
      const box = label.getBoundingClientRect();
      if (taken.some((other) => overlaps(box, other))) label.classList.add("label-hidden");
      else taken.push(box);
    }
  }

  drawIncidents(list: { id: string; lat: number; lon: number; label: string }[],
    pick: (id: string) => void): void {
    this.incidentLayer.clearLayers();
    for (const incident of list) {
      L.circle([incident.lat, incident.lon], { radius: 80, color: "#b42318", weight: 2,
        fill: false, dashArray: "6 4", className: "incident-marker", interactive: true })
        .bindTooltip(mapText(incident.label))
        .on("click", () => pick(incident.id))
        .addTo(this.incidentLayer);
    }
  }

  showTrail(points: { lat: number; lon: number }[]): void {
    this.trail?.remove();
    this.trail = points.length > 0
      ? L.polyline(points.map((p) => [p.lat, p.lon] as L.LatLngTuple),
        { color: "#b42318", dashArray: "4 4" }).addTo(this.ensure())
      : null;
  }

  /**
   * While merging: a line from this incident to each one ticked, all of them brought into view,
   * so the dispatcher sees on the map which groups of calls will become one.
   */
  showMerge(target: { lat: number; lon: number } | null, picked: { lat: number; lon: number }[]): void {
    this.mergeLayer?.remove();
    this.mergeLayer = null;
    if (target === null || picked.length === 0) return;
    const map = this.ensure();
    const layer = L.layerGroup();
    for (const p of picked) {
      L.polyline([[target.lat, target.lon], [p.lat, p.lon]], { color: "#0b5cad", weight: 3,
        dashArray: "8 6", interactive: false, className: "merge-link" }).addTo(layer);
      L.circle([p.lat, p.lon], { radius: 80, color: "#0b5cad", weight: 3, fillOpacity: 0.12,
        interactive: false, className: "merge-pick" }).addTo(layer);
    }
    this.mergeLayer = layer.addTo(map);
    const points = [target, ...picked].map((p) => [p.lat, p.lon] as L.LatLngTuple);
    map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 17 });
  }

  focus(lat: number, lon: number): void {
    const map = this.ensure();
    map.setView([lat, lon], Math.max(map.getZoom(), 16));
  }
}
