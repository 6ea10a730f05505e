/**
 * The observatory's anomaly notices, in words: the figure, its category and place (never an H3
 * id: the cells are located through the map API first), the count against its usual level, and
 * an acknowledgement button.
 */
import type { Places } from "./stats-places";
import { el } from "./dom";

interface Notice {
  id: number; kind: string; category: string; cell: string; block_start: string;
  block_minutes: number; observed: number; baseline: number; score: number;
  acknowledged_by: string | null;
}

/** What the notices need from the page. */
export interface NoticeContext {
  api: <T>(path: string, init?: RequestInit) => Promise<T>;
  t: (key: string) => string;
  label: (figure: string) => string;
  catLabel: (category: string) => string;
  places: Places;
  number: Intl.NumberFormat;
  lang: string;
  mapped: (figure: string) => boolean;
  onError: (error: unknown) => void;
}

const API = "/api/v1/stats";

/** Find where the notices' cells are: one map query per figure over the notices' blocks. */
async function locate(notices: Notice[], ctx: NoticeContext): Promise<void> {
  const missing = notices.filter((n) => n.cell && !ctx.places.has(n.cell));
  const kinds = [...new Set(missing.map((n) => n.kind))].filter(ctx.mapped);
  await Promise.all(kinds.map(async (kind) => {
    const mine = missing.filter((n) => n.kind === kind);
    const start = Math.min(...mine.map((n) => Date.parse(n.block_start)));
    const end = Math.max(...mine.map((n) => Date.parse(n.block_start) + n.block_minutes * 60000));
    const params = new URLSearchParams({ figure: kind, from: new Date(start).toISOString(),
      to: new Date(end).toISOString() });
    ctx.places.remember(await ctx.api<GeoJSON.FeatureCollection>(`${API}/map?${params}`));
  }));
}

/** Fill `list` with the latest notices. */
export async function showNotices(list: HTMLUListElement, ctx: NoticeContext): Promise<void> {
  const { t, number } = ctx;
  const notices = await ctx.api<Notice[]>(`${API}/notices?limit=20`);
  await locate(notices, ctx);
  list.replaceChildren();
  if (notices.length === 0) list.append(el("li", "stats-empty", t("stats.notices_empty")));
  for (const notice of notices) {
    const li = el("li", notice.acknowledged_by ? "stats-notice is-acked" : "stats-notice");
    const when = new Date(notice.block_start).toLocaleString(ctx.lang === "en" ? "en-GB" : "fr-FR");
    const where = notice.cell ? ` · ${ctx.places.name(notice.cell)}` : "";
    const what = notice.category ? ` · ${ctx.catLabel(notice.category)}` : "";
    // Below one a block usually, the baseline makes z meaningless (any count is "infinitely"
    // unusual): say instead that nothing, or almost nothing, was counted there before.
    const first = notice.baseline < 1;
    const text = (first ? t("stats.notice_first") : t("stats.notice_text"))
      .replace("{observed}", number.format(notice.observed))
      .replace("{minutes}", String(notice.block_minutes))
      .replace("{baseline}", number.format(notice.baseline))
      .replace("{score}", number.format(notice.score));
    li.dataset.first = String(first);
    li.append(el("strong", "", `${ctx.label(notice.kind)}${what}${where}`),
      el("span", "", ` — ${when} : ${text}`));
    if (notice.acknowledged_by) li.append(el("em", "", ` ${t("stats.acked")} ${notice.acknowledged_by}`));
    else {
      const ack = el("button", "btn btn-secondary btn-small", t("stats.ack"));
      ack.type = "button";
      ack.addEventListener("click", () => void ctx.api(`${API}/notices/${notice.id}/ack`, { method: "POST" })
        .then(() => showNotices(list, ctx), ctx.onError));
      li.append(" ", ack);
    }
    list.append(li);
  }
}
