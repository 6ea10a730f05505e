/**
 * The public advisories: published TLP:CLEAR bulletins, latest version of each.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/cyber.css";
import { el } from "../lib/cyber";
import { messagesFrom, pageLang } from "../lib/i18n";

interface Advisory {
  id: string; version: number; title: string; summary: string; exposed: string; actions: string;
  severity: string; published_at: string | null;
}

const root = document.getElementById("cyber-advisories-app") as HTMLElement;
const t = messagesFrom(root);
const list = root.querySelector('[data-list="advisories"]') as HTMLElement;
const dateFormat = new Intl.DateTimeFormat(pageLang() === "en" ? "en-GB" : "fr-FR", {
  dateStyle: "long", timeStyle: "short",
});

function card(advisory: Advisory): HTMLElement {
  const v = advisory;
  const article = el("article", `panel cyber-advisory severity-${v.severity}`);
  article.id = `advisory-${advisory.id}`;
  article.append(el("h2", "", v.title));
  const meta = el("p", "cyber-meta");
  meta.append(el("span", `cyber-severity severity-${v.severity}`, t(`cyber.severity.${v.severity}`)),
    ` · ${t("cyber.version")} ${v.version}`);
  if (v.published_at) meta.append(` · ${t("cyber.published_on")} ${dateFormat.format(new Date(v.published_at))}`);
  article.append(meta, el("p", "", v.summary), el("h3", "", t("cyber.exposed")), el("p", "", v.exposed),
    el("h3", "", t("cyber.actions")), el("p", "", v.actions));
  return article;
}

void fetch("/api/v1/cyber/public/advisories").then(async (response) => {
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const advisories = (await response.json()) as Advisory[];
  list.replaceChildren(...(advisories.length ? advisories.map(card)
    : [el("p", "", t("cyber.none_public"))]));
}).catch((error: unknown) => list.replaceChildren(el("p", "form-message is-error",
  `${t("cyber.error")}: ${String(error)}`)));
