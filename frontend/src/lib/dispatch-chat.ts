/**
 * The silent chat pane: one SOS read (an audited read of its sealed text, trail and messages),
 * newest message first right under the reply box, so the last thing the caller said is in view.
 */
import { type Sos, element, why } from "./dispatch-rows";
import type { SosStore } from "./dispatch-store";
import type { Ctx, SosDetail } from "./dispatch-types";
import { formatTime } from "./i18n";

export function showSos(ctx: Ctx, sos: Sos | undefined, detail: SosDetail, store: SosStore): void {
  const { t, $ } = ctx;
  $<HTMLElement>("[data-chat-empty]").hidden = true;
  $<HTMLElement>("[data-sos-detail]").hidden = false;
  $<HTMLElement>("[data-chat-head]").textContent = sos
    ? `${t(`dispatch.situation.${sos.situation}`)}` +
      `${sos.people ? ` · ${sos.people} ${t("dispatch.persons")}` : ""}` +
      ` · P${sos.score.band} ${sos.score.points} (${why(sos.score, t)})`
    : "";
  $<HTMLElement>("[data-sos-text]").textContent = detail.text ?? t("dispatch.no_text");
  const messages = [...detail.messages].reverse();
  $<HTMLUListElement>("[data-chat]").replaceChildren(...messages.map((m) => element("li",
    `${formatTime(new Date(m.at))} ${m.sender === "dispatcher" ? t("dispatch.you") : t("dispatch.citizen")} : ${m.text}`,
    `chat-${m.sender}`)));
  if (!sos) return;
  // Read now: the marks follow what the chat holds, not what the stream happened to carry.
  const citizen = detail.messages.filter((m) => m.sender === "citizen").map((m) => Date.parse(m.at));
  const mine = detail.messages.filter((m) => m.sender === "dispatcher").map((m) => Date.parse(m.at));
  if (citizen.length) sos.lastCitizenAt = Math.max(...citizen);
  if (mine.length) sos.lastDispatcherAt = Math.max(...mine);
  sos.unread = 0;
  store.save(sos);
}
