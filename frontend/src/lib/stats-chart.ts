/**
 * The observatory's time-series charts: one uPlot chart from one or more series responses, with
 * legends that carry each line's total (or mean, for durations) over the period, so that a chart
 * read on a phone says its values without a cursor.
 */
import uPlot from "uplot";

/** One figure's series over the period, as `GET /api/v1/stats/series` answers it. */
export interface Series {
  figure: string; unit: string; grain: string; buckets: number[];
  counts: Record<string, number[]>; means: Record<string, (number | null)[]>;
}

/** What the chart needs from the page. */
export interface ChartContext {
  t: (key: string) => string;
  label: (figure: string) => string;
  catLabel: (category: string) => string;
  number: Intl.NumberFormat;
  lang: string;
}

const COLORS = ["#1f4e8c", "#c0392b", "#e67e22", "#27ae60", "#8e44ad", "#16a085", "#7f8c8d",
  "#d35400"];
const color = (i: number): string => COLORS[i % COLORS.length] ?? "#1f4e8c";

const GRAIN_WORDS: Record<string, string> = {
  m: "stats.per_minute", h: "stats.per_hour", d: "stats.per_day", w: "stats.per_week",
};

/** « par heure », « par jour »…: how long one bucket of the chart lasts. */
export function grainWord(grain: string, t: ChartContext["t"]): string {
  return t(GRAIN_WORDS[grain] ?? "stats.per_day");
}

/** True when no series has a single event: the page says "no data" instead of a flat line. */
export function isEmpty(parts: Series[]): boolean {
  const first = parts[0];
  return !first || first.buckets.length === 0
    || parts.every((part) => Object.values(part.counts).every((v) => v.every((n) => !n)));
}

/** Sum (counts) or mean (durations) over the categories of one bucket. */
function overCategories(source: Record<string, (number | null)[]>, keys: string[], i: number,
  seconds: boolean): number | null {
  let sum = 0;
  let seen = false;
  for (const key of keys) {
    const value = source[key]?.[i];
    if (value !== null && value !== undefined) { sum += value; seen = true; }
  }
  if (!seen) return seconds ? null : 0;
  return seconds ? sum / Math.max(1, keys.length) : sum;
}

/** Draw ``parts`` (same period and grain) into ``box``; ``split``: one line per category. */
export function drawSeries(box: HTMLElement, width: number, parts: Series[], split: boolean,
  ctx: ChartContext): uPlot {
  const first = parts[0] as Series;
  const data: (number | null)[][] = [first.buckets];
  const series: uPlot.Series[] = [{ label: ctx.lang === "en" ? "Time" : "Heure" }];
  for (const part of parts) {
    const seconds = part.unit === "seconds";
    const source: Record<string, (number | null)[]> = seconds ? part.means : part.counts;
    const keys = Object.keys(source).sort();
    if (split && !seconds) {
      for (const key of keys) {
        const values = source[key] ?? [];
        data.push(values);
        const total = values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
        series.push({ label: `${ctx.catLabel(key)} · ${ctx.number.format(total)}`,
          stroke: color(series.length - 1), width: 2, scale: "n" });
      }
      continue;
    }
    const total = part.buckets.map((_b, i) => overCategories(source, keys, i, seconds));
    data.push(total);
    const present = total.filter((v): v is number => v !== null);
    const sum = present.reduce((a, b) => a + b, 0);
    const summary = seconds
      ? `${ctx.t("stats.mean")} ${present.length ? ctx.number.format(sum / present.length) : "—"} s`
      : `${ctx.t("stats.total")} ${ctx.number.format(sum)}`;
    series.push({ label: `${ctx.label(part.figure)} · ${summary}`,
      stroke: color(series.length - 1), width: 2, spanGaps: seconds, scale: seconds ? "s" : "n" });
  }
  const locale = ctx.lang === "en" ? "en-GB" : "fr-FR";
  const format = first.grain === "d"
    ? new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit" })
    : new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
  // Durations (seconds) and counts drawn together each get their own axis, the durations on the
  // right: on one axis a mean of 1,200 s flattened a count of 3 orders into the zero line.
  const hasCounts = series.some((line) => line.scale === "n");
  const hasSeconds = series.some((line) => line.scale === "s");
  const axes: uPlot.Axis[] = [
    { values: (_u, splits) => splits.map((v) => format.format(new Date(v * 1000))) },
  ];
  if (hasCounts) axes.push({ scale: "n", size: 50 });
  if (hasSeconds) {
    axes.push({ scale: "s", size: 60, side: hasCounts ? 1 : 3, grid: { show: !hasCounts },
      values: (_u, splits) => splits.map((v) => `${ctx.number.format(v)} s`) });
  }
  return new uPlot({
    width, height: 220, series, axes,
    scales: { x: { time: true } },
    legend: { show: true },
  }, data as uPlot.AlignedData, box);
}
