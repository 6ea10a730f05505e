/**
 * Staff session in the browser: log in with the OAuth2 password flow, keep the bearer token
 * for this tab only (sessionStorage: it dies with the tab, so an unattended console does not
 * stay logged in forever), and call the API with it. A 401 ends the session.
 */

const TOKEN_KEY = "tocsin.token";
const ROLE_KEY = "tocsin.role";

export interface ApiError {
  status: number;
  code: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(public readonly error: ApiError) {
    super(error.message);
  }
}

export function currentToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentRole(): string | null {
  return sessionStorage.getItem(ROLE_KEY);
}

export function logout(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
}

async function toFailure(response: Response): Promise<ApiFailure> {
  let code = "error";
  let message = response.statusText;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiFailure({ status: response.status, code, message });
}

/** Log in; resolve to the account's role, or reject with the server's error. */
export async function login(username: string, password: string): Promise<string> {
  const form = new URLSearchParams({ username, password });
  const response = await fetch("/api/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  if (!response.ok) throw await toFailure(response);
  const body = (await response.json()) as { access_token: string; role: string };
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(ROLE_KEY, body.role);
  return body.role;
}

/** Call the API with the session's token; JSON in and out. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) logout();
  if (!response.ok) throw await toFailure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
