/**
 * The staff session's token and the API calls made with it. The bearer token lives in
 * sessionStorage, for this tab only: it dies with the tab, so an unattended console does not stay
 * signed in forever; a 401 ends the session. Errors come back as `ApiFailure`, carrying the
 * server's code and its sentence, which pages show as they are (never a bare status).
 */
const TOKEN_KEY = "tocsin.token";
const ROLE_KEY = "tocsin.role";
const SCOPE_KEY = "tocsin.scope";
const USER_KEY = "tocsin.user";

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

/** The username this tab signed in with (pages compare it with authors, e.g. two-person rule). */
export function currentUser(): string | null {
  return sessionStorage.getItem(USER_KEY);
}

export function currentRole(): string | null {
  return sessionStorage.getItem(ROLE_KEY);
}

/** "full", or "mfa_enrolment" for a token that may only turn on two-factor authentication. */
export function currentScope(): string | null {
  return sessionStorage.getItem(SCOPE_KEY);
}

/** After the second factor is confirmed, the server has upgraded this session's token. */
export function markFullScope(): void {
  sessionStorage.setItem(SCOPE_KEY, "full");
}

export function logout(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
  sessionStorage.removeItem(SCOPE_KEY);
  sessionStorage.removeItem(USER_KEY);
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

/**
 * Log in; resolve to the account's role, or reject with the server's error (code
 * `mfa_required` when the account has 2FA and no `otp` was given).
 */
export async function login(username: string, password: string, otp?: string): Promise<string> {
  const form = new URLSearchParams({ username, password });
  if (otp) form.set("otp", otp);
  const response = await fetch("/api/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  if (!response.ok) throw await toFailure(response);
  const body = (await response.json()) as { access_token: string; role: string; scope?: string };
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(ROLE_KEY, body.role);
  sessionStorage.setItem(SCOPE_KEY, body.scope ?? "full");
  sessionStorage.setItem(USER_KEY, username);
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
