/**
 * Small helpers shared by the cyber desk's pages: messages in a status line, elements.
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

/** Write a message in a `.form-message` element, green or red. */
export function say(node: HTMLElement, text: string, ok: boolean): void {
  node.textContent = text;
  node.classList.toggle("is-error", !ok);
  node.classList.toggle("is-ok", ok);
}

/** Return the selected values of a multiple <select>. */
export function selected(select: HTMLSelectElement): string[] {
  return Array.from(select.selectedOptions).map((o) => o.value);
}
