/**
 * Text content for Leaflet tooltips, popups and labels.
 *
 * Leaflet writes string content with `innerHTML` (bindTooltip, bindPopup, setTooltipContent,
 * setPopupContent, L.tooltip / L.popup, L.divIcon `html`), so a string from data there is HTML
 * injection (a CAP areaDesc once carried a link and a `<meta http-equiv=refresh>` onto the public
 * maps). Every such content goes through `mapText`: an element whose text is set with
 * `textContent`, which Leaflet appends as a node. tests/web/test_map_text.py checks the sources.
 */
export function mapText(text: string | number): HTMLSpanElement {
  const node = document.createElement("span");
  node.textContent = String(text);
  return node;
}
