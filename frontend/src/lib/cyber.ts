/**
 * Small helpers shared by the cyber desk's pages: messages in a status line, elements.
 */

import { el } from "./dom";

export { el };

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

/**
 * Say what is wrong with one field, next to it (and to screen readers through
 * aria-describedby); typing in the field clears it. `text` empty clears at once.
 */
export function fieldError(input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
  text: string): void {
  const id = `${input.id || input.name || "field"}-error`;
  let note = input.parentElement?.querySelector<HTMLElement>(`[data-error-for="${input.name}"]`);
  if (!text) {
    note?.remove();
    input.removeAttribute("aria-invalid");
    return;
  }
  if (!note) {
    note = el("p", "field-error");
    note.id = id;
    note.dataset.errorFor = input.name;
    note.setAttribute("role", "alert");
    input.insertAdjacentElement("afterend", note);
    input.addEventListener("input", () => fieldError(input, ""), { once: true });
  }
  note.textContent = text;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", id);
}
