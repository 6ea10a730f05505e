/**
 * What makes one SOS more urgent than another, in points a dispatcher can read back.
 *
 * The server ranks incidents 1–3 by their worst situation only, so 300 calls from one hall all
 * read "priority 1". This score separates them with what an SOS actually carries (situation,
 * number of people, time since it came in) and what the console sees on the stream (the caller
 * wrote and nobody answered; nothing heard for a long time). Each part is returned with its
 * points, so the console can say *why* an SOS is at the top, not only that it is.
 */

export interface SosFacts {
  situation: string;
  people: number | null;
  receivedAt: number; // ms since epoch
  lastCitizenAt: number | null; // last message from the caller, ms
  lastDispatcherAt: number | null; // last reply sent to them, ms
}

export interface Reason {
  key: string; // i18n key of the factor
  points: number;
  value?: string; // e.g. the number of people, minutes
}

export interface Score {
  points: number;
  band: 1 | 2 | 3; // 1 most urgent, as the server's priorities
  reasons: Reason[];
}

// Life at risk right now first; people hiding are at risk if found; "other" is unknown.
export const SITUATION_POINTS: Record<string, number> = {
  hostage: 50,
  attack: 45,
  armed_person: 45,
  injured: 40,
  fire: 35,
  hidden: 30,
  other: 10,
};

const MINUTE = 60_000;
const SILENCE_MS = 10 * MINUTE;

export function scoreSos(sos: SosFacts, now: number): Score {
  const reasons: Reason[] = [];
  const situation = SITUATION_POINTS[sos.situation] ?? 10;
  reasons.push({ key: `dispatch.situation.${sos.situation}`, points: situation });
  if (sos.people !== null && sos.people > 1) {
    // More people, more lives; the log keeps one call "50 people" from drowning all others.
    const people = Math.min(20, Math.round(6 * Math.log2(sos.people)));
    reasons.push({ key: "dispatch.why.people", points: people, value: String(sos.people) });
  }
  const ageMin = Math.max(0, (now - sos.receivedAt) / MINUTE);
  if (ageMin >= 1) {
    // Waiting grows urgency slowly (a point a minute, 20 at most): an old call is not forgotten.
    reasons.push({ key: "dispatch.why.age", points: Math.min(20, Math.floor(ageMin)),
      value: String(Math.floor(ageMin)) });
  }
  const wrote = sos.lastCitizenAt;
  if (wrote !== null && (sos.lastDispatcherAt === null || sos.lastDispatcherAt < wrote)) {
    reasons.push({ key: "dispatch.why.unanswered", points: 15 });
  }
  const lastHeard = Math.max(sos.receivedAt, wrote ?? 0);
  if (now - lastHeard >= SILENCE_MS) {
    reasons.push({ key: "dispatch.why.silence", points: 10,
      value: String(Math.floor((now - lastHeard) / MINUTE)) });
  }
  const points = reasons.reduce((sum, r) => sum + r.points, 0);
  // Bands match the server's 1–3 at their base (an attack alone is 1, people hiding 2, other 3);
  // people, waiting and silence then move an SOS up.
  return { points, band: band(points), reasons };
}

export function band(points: number): 1 | 2 | 3 {
  return points >= 45 ? 1 : points >= 30 ? 2 : 3;
}

/** An incident is as urgent as its most urgent SOS, plus a little for each other caller. */
export function scoreIncident(sosScores: number[], serverPriority: number): number {
  if (sosScores.length === 0) return (4 - serverPriority) * 15;
  const top = Math.max(...sosScores);
  return top + Math.min(25, Math.round(5 * Math.log2(sosScores.length)));
}
