/**
 * The console's live stream (Server-Sent Events) with its one-time ticket.
 *
 * EventSource cannot send an Authorization header, so a ticket (valid 60 s, for this stream
 * only, single use) is asked for with the bearer token and put in the stream's URL; every
 * reconnect asks for a new one. The server ends the stream with a `closed` event once the
 * session no longer admits it (logged out elsewhere, revoked, 2FA now required): the page says
 * why, and the next ticket request signs it out on a 401 or shows the refusal.
 */
import { ApiFailure, api, currentToken } from "./staff";

export const SUBJECTS = ["sos.created", "sos.message", "sos.position", "sos.closed",
  "incident.updated", "assignment.offered", "assignment.accepted", "assignment.declined",
  "assignment.expired", "assignment.cancelled", "assignment.on_scene", "assignment.closed",
  "dispatch.unit_status", "dispatch.unit_position"];

export interface StreamHandlers {
  onEvent(subject: string, data: Record<string, unknown>): void;
  /** Connected (again): what was missed meanwhile must be re-read. */
  onReady(): void;
  /** The server dropped events for this slow console: re-read everything. */
  onLag(): void;
  live(ok: boolean, reason?: string): void;
  closedText: string;
}

export function followStream(handlers: StreamHandlers): { close(): void } {
  let stream: EventSource | null = null;
  const retry = (): void => {
    if (currentToken() !== null) window.setTimeout(() => void connect(), 2000);
  };
  const connect = async (): Promise<void> => {
    stream?.close();
    try {
      const { ticket } = await api<{ ticket: string }>("/api/v1/dispatch/stream/ticket",
        { method: "POST" });
      stream = new EventSource(`/api/v1/dispatch/stream?ticket=${encodeURIComponent(ticket)}`);
    } catch (error: unknown) {
      handlers.live(false, error instanceof ApiFailure ? error.error.message : "");
      retry();
      return;
    }
    stream.addEventListener("ready", () => { handlers.live(true); handlers.onReady(); });
    const onMessage = (message: MessageEvent<string>): void => {
      const { subject, data } = JSON.parse(message.data) as
        { subject: string; data: Record<string, unknown> };
      handlers.onEvent(subject, data);
    };
    for (const name of SUBJECTS) stream.addEventListener(name, onMessage as EventListener);
    stream.addEventListener("lag", () => handlers.onLag());
    stream.addEventListener("closed", (message: MessageEvent<string>) => {
      // The session no longer admits the stream: say why; a new ticket is refused if it stays so.
      stream?.close();
      const { reason } = JSON.parse(message.data) as { reason: string };
      handlers.live(false, `${handlers.closedText} ${reason}`);
      retry();
    });
    stream.onerror = () => {
      // The ticket was single use: a reconnect needs a new one.
      stream?.close();
      handlers.live(false);
      retry();
    };
  };
  void connect();
  return { close: () => stream?.close() };
}
