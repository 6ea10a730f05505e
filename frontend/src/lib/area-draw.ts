/**
 * Drawing an alert area on a Leaflet map, without a plug-in: a polygon (click each vertex, then
 * close it) or a circle (click the centre, then a point on the edge). The result is what the
 * alerts API takes: a closed ring of [lat, lon] (CAP 1.2 §3.2.4 wants the first point repeated
 * at the end) or a centre and a radius in kilometres.
 *
 * An address found by the search box (geo-search.ts) and confirmed becomes a circle's centre
 * (`centreAt`): the authority who means "Place d'Italie" starts from Place d'Italie, not from
 * where their mouse happened to be.
 */
import L from "leaflet";

export type DrawMode = "none" | "polygon" | "circle";

export type DrawnArea =
  | { polygon: [number, number][] }
  | { circle: { lat: number; lon: number; radius_km: number } };

export class AreaDrawer {
  mode: DrawMode = "none";
  private points: L.LatLng[] = [];
  private closed = false;
  private centre: L.LatLng | null = null;
  private radiusM = 0;
  private readonly layer: L.LayerGroup;

  constructor(
    private readonly map: L.Map,
    private readonly onChange: (drawer: AreaDrawer) => void,
  ) {
    this.layer = L.layerGroup().addTo(map);
    map.on("click", (e: L.LeafletMouseEvent) => this.click(e.latlng));
  }

  start(mode: DrawMode): void {
    this.clear();
    this.mode = mode;
    this.map.getContainer().classList.toggle("drawing", mode !== "none");
    this.onChange(this);
  }

  clear(): void {
    this.points = [];
    this.closed = false;
    this.centre = null;
    this.radiusM = 0;
    this.mode = "none";
    this.map.getContainer().classList.remove("drawing");
    this.redraw();
  }

  /**
   * Centre a circle on a confirmed address, 500 m wide to begin with: a valid area at once; the
   * next click on the map sets the edge (the radius) instead.
   */
  centreAt(lat: number, lon: number, radiusM = 500): void {
    this.clear();
    this.centre = L.latLng(lat, lon);
    this.radiusM = radiusM;
    this.mode = "circle";
    this.map.getContainer().classList.add("drawing");
    this.redraw();
  }

  /** Close the polygon being drawn (needs three vertices). */
  finish(): boolean {
    if (this.mode !== "polygon" || this.points.length < 3) return false;
    this.closed = true;
    this.mode = "none";
    this.map.getContainer().classList.remove("drawing");
    this.redraw();
    return true;
  }

  /** Load an existing area (to update an alert). */
  load(ring: [number, number][] | null, circle: { lat: number; lon: number; radius_km: number } | null): void {
    this.clear();
    if (ring && ring.length >= 4) {
      this.points = ring.slice(0, -1).map(([lat, lon]) => L.latLng(lat, lon));
      this.closed = true;
    } else if (circle) {
      this.centre = L.latLng(circle.lat, circle.lon);
      this.radiusM = circle.radius_km * 1000;
    }
    this.redraw();
  }

  get vertexCount(): number {
    return this.points.length;
  }

  get radiusKm(): number {
    return Math.round(this.radiusM) / 1000;
  }

  /** The area for the API, or null while nothing complete is drawn. */
  area(): DrawnArea | null {
    if (this.closed && this.points.length >= 3) {
      const ring = this.points.map((p): [number, number] => [round(p.lat), round(p.lng)]);
      return { polygon: [...ring, ring[0] as [number, number]] };
    }
    if (this.centre && this.radiusM > 0) {
      return {
        circle: { lat: round(this.centre.lat), lon: round(this.centre.lng), radius_km: this.radiusKm },
      };
    }
    return null;
  }

  private click(at: L.LatLng): void {
    if (this.mode === "polygon") {
      this.points.push(at);
    } else if (this.mode === "circle") {
      if (this.centre === null) {
        this.centre = at;
        this.radiusM = 0;
      } else {
        this.radiusM = this.map.distance(this.centre, at);
        this.mode = "none";
        this.map.getContainer().classList.remove("drawing");
      }
    } else {
      return;
    }
    this.redraw();
  }

  private redraw(): void {
    this.layer.clearLayers();
    const style = { color: "#000091", weight: 2 };
    if (this.points.length) {
      if (this.closed) L.polygon(this.points, { ...style, fillOpacity: 0.2 }).addTo(this.layer);
      else L.polyline(this.points, { ...style, dashArray: "4 4" }).addTo(this.layer);
      for (const p of this.points) L.circleMarker(p, { radius: 4, ...style }).addTo(this.layer);
    }
    if (this.centre) {
      L.circleMarker(this.centre, { radius: 4, ...style }).addTo(this.layer);
      if (this.radiusM > 0) {
        L.circle(this.centre, { radius: this.radiusM, ...style, fillOpacity: 0.2 }).addTo(this.layer);
      }
    }
    this.onChange(this);
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
