/**
 * What the console knows of each open SOS: its point, its score, and what this console saw of
 * its chat. Who wrote, and what is unread, is what the stream showed this tab (kept for the tab
 * in sessionStorage, so a reload keeps the marks): the SOS bodies are sealed and read only on
 * demand, each read audited.
 */
import { scoreIncident, scoreSos } from "./dispatch-priority";
import type { Sos } from "./dispatch-rows";
import type { Incident, SosPoint } from "./dispatch-types";

const CHAT_STORE = "tocsin.dispatch.chat";
type ChatMeta = Record<string, [number | null, number | null, number]>;

/** Per open SOS with a chat, from `GET /dispatch/sos/chat` (times only, no text). */
export interface ChatState {
  sos_id: string; citizen_messages: number; last_citizen_at: string | null;
  last_dispatcher_at: string | null;
}

function loadChat(): ChatMeta {
  try { return JSON.parse(sessionStorage.getItem(CHAT_STORE) ?? "{}") as ChatMeta; } catch { return {}; }
}

export class SosStore {
  readonly all = new Map<string, Sos>();
  private readonly chat = loadChat();

  get size(): number { return this.all.size; }
  get(id: string): Sos | undefined { return this.all.get(id); }
  values(): IterableIterator<Sos> { return this.all.values(); }
  delete(id: string): void { this.all.delete(id); }

  /** A console-side SOS for a point, with what this tab saw of its chat. */
  make(p: SosPoint): Sos {
    const [citizen, dispatcher, unread] = this.chat[p.sos_id] ?? [null, null, 0];
    return {
      id: p.sos_id, incident: p.incident_id ?? null, lat: p.lat, lon: p.lon,
      situation: p.situation, people: p.people, receivedAt: Date.parse(p.received_at),
      lastCitizenAt: citizen, lastDispatcherAt: dispatcher, unread,
      score: { points: 0, band: 3, reasons: [] },
    };
  }

  /** Add a point; true when it is new (the caller puts it on the map). */
  upsert(p: SosPoint): Sos | null {
    const known = this.all.get(p.sos_id);
    if (known) {
      // Merge and split move SOS between incidents: the point stays, its incident changes.
      if (p.incident_id) known.incident = p.incident_id;
      return null;
    }
    const sos = this.make(p);
    this.all.set(sos.id, sos);
    return sos;
  }

  save(sos: Sos): void {
    this.chat[sos.id] = [sos.lastCitizenAt, sos.lastDispatcherAt, sos.unread];
    sessionStorage.setItem(CHAT_STORE, JSON.stringify(this.chat));
  }

  /** Who wrote before this console was open: an unanswered caller counts as one unread. */
  mergeChatState(rows: ChatState[]): void {
    for (const row of rows) {
      const sos = this.all.get(row.sos_id);
      if (!sos) continue;
      const citizen = row.last_citizen_at ? Date.parse(row.last_citizen_at) : null;
      const mine = row.last_dispatcher_at ? Date.parse(row.last_dispatcher_at) : null;
      if (citizen !== null && (sos.lastCitizenAt === null || citizen > sos.lastCitizenAt)) {
        const seen = this.chat[sos.id] !== undefined;
        sos.lastCitizenAt = citizen;
        if (!seen && (mine === null || mine < citizen)) sos.unread = Math.max(sos.unread, 1);
      }
      if (mine !== null && (sos.lastDispatcherAt === null || mine > sos.lastDispatcherAt)) {
        sos.lastDispatcherAt = mine;
      }
      this.save(sos);
    }
  }

  scoreAll(now: number): void {
    for (const sos of this.all.values()) sos.score = scoreSos(sos, now);
  }

  of(incidentId: string): Sos[] {
    return [...this.all.values()].filter((s) => s.incident === incidentId);
  }

  incidentScore(incident: Incident): number {
    return scoreIncident(this.of(incident.id).map((s) => s.score.points), incident.priority);
  }

  /** Callers who wrote, and messages not read yet, in one incident or in all. */
  counts(incidentId: string | null = null): { written: number; unread: number } {
    let written = 0;
    let unread = 0;
    for (const sos of this.all.values()) {
      if (incidentId !== null && sos.incident !== incidentId) continue;
      if (sos.lastCitizenAt !== null) written += 1;
      unread += sos.unread;
    }
    return { written, unread };
  }
}
