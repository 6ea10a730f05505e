/**
 * Building page elements: one helper for every page, so that each sets text (never HTML) the
 * same way — the pages show what citizens and partners typed, and innerHTML would run it.
 */

/** Create an element with an optional class and text (text nodes only: never HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, className = "", text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}
