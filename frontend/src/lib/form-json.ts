/**
 * Small helpers of the persons and safety pages: form fields to JSON, API errors to text.
 */

/** Return the non-empty text fields of a form as an object (checkboxes as booleans). */
export function formJson(form: HTMLFormElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const el of Array.from(form.elements)) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement
      || el instanceof HTMLSelectElement) || el.name === "") continue;
    if (el instanceof HTMLInputElement && el.type === "file") continue;
    if (el instanceof HTMLInputElement && el.type === "checkbox") {
      if (el.checked) out[el.name] = true;
      continue;
    }
    const value = el.value.trim();
    if (value !== "") out[el.name] = value;
  }
  return out;
}

/** Return the message of the API's error shape, or the HTTP status. */
export async function errorText(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/** POST JSON and return the response. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body: JSON.stringify(body),
  });
}
