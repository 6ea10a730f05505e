/**
 * The moderators' console: sign in, review the prioritised queue (images blurred until clicked,
 * each view audited by the API), decide with a reason, issue removal orders and watch their
 * one-hour deadlines (Regulation (EU) 2021/784, Art. 3(3)).
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/watch.css";
import { messagesFrom, pageLang } from "../lib/i18n";
import { el } from "../lib/dom";
import { ApiFailure, api, currentRole, currentToken, currentUser, mountStaffLogin } from "../lib/staff";

interface Span { start: number; end: number; text: string; weight: number }
interface Feature { feature: string; weight: number }
interface Reason { kind: string; text: string; label: string }
interface Item {
  id: number;
  url: string;
  platform: string;
  excerpt: string;
  category: string;
  reported_category: string;
  score: number;
  report_count: number;
  priority: number;
  has_image: boolean;
  status: string;
  explanation: { spans?: Span[]; features?: Feature[]; reasons?: Reason[]; stage?: number };
}
interface Order {
  id: number;
  instrument: "order" | "notice";
  platform: string;
  item_id: number;
  url: string;
  content_category: string | null;
  issued_by: string;
  approved_by: string | null;
  status: string;
  deadline_at: string | null;
  overdue: boolean;
}

/** Removal orders are for terrorist content only; other illegal content goes as a DSA notice. */
const TERRORIST = ["terrorism_apology", "call_to_violence"];
const ILLEGAL = [...TERRORIST, "hate"];

const API = "/api/v1/watch";
const root = document.getElementById("watch-app") as HTMLElement;
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
const timeFormat = new Intl.DateTimeFormat(pageLang() === "en" ? "en-GB" : "fr-FR", {
  dateStyle: "short",
  timeStyle: "short",
});

function say(name: string, text: string, ok: boolean): void {
  const node = $<HTMLElement>(`[data-message="${name}"]`);
  node.textContent = text;
  node.classList.toggle("is-error", !ok);
  node.classList.toggle("is-ok", ok);
}

function failureText(error: unknown): string {
  return error instanceof ApiFailure ? `${t("watch.error")}: ${error.message}` : String(error);
}

/** Reasons that hold a decision back (counter-speech, reporting, negation), shown apart. */
const HOLDING_BACK = ["negation", "condemn", "report_act", "news", "quote", "solidarity"];

/** One reason in the page language: « mot : « planter » (violence) », « cadre : citation ». */
function reasonText(kind: string, text: string): string {
  const quoted = text.startsWith("«") ? text : t("watch.quote").replace("{text}", text);
  return t(`watch.reason.${kind}`).replace("{q}", quoted);
}

/**
 * The reasons a moderator reads. Items assessed before the reasons existed carry only the
 * model's features (``word:sale``, ``frame:condemn``): their words and frames are said the
 * same way, and the character n-grams, which mean nothing to a reader, are left out.
 */
function reasonsOf(item: Item): { kind: string; text: string }[] {
  if (item.explanation.reasons?.length) return item.explanation.reasons;
  const out: { kind: string; text: string }[] = [];
  for (const { feature, weight } of item.explanation.features ?? []) {
    const [source, name] = [feature.slice(0, feature.indexOf(":")), feature.slice(feature.indexOf(":") + 1)];
    if (source === "word" && weight > 0) out.push({ kind: "expression", text: name });
    else if (source === "frame" && HOLDING_BACK.includes(name)) out.push({ kind: name, text: "…" });
  }
  return out.slice(0, 4);
}

/** Where each reason's words stand in the excerpt (case-insensitive, first occurrence). */
function reasonSpans(item: Item): { start: number; end: number; holding: boolean }[] {
  const lower = item.excerpt.toLocaleLowerCase();
  const found = [];
  for (const reason of item.explanation.reasons ?? []) {
    const at = lower.indexOf(reason.text.toLocaleLowerCase());
    if (reason.text && at >= 0) {
      found.push({ start: at, end: at + reason.text.length, holding: HOLDING_BACK.includes(reason.kind) });
    }
  }
  return found;
}

/**
 * The excerpt with the words of the reasons marked (text nodes only: no HTML); items without
 * reasons mark the model's spans. Words that hold the decision back are marked apart.
 */
function excerpt(item: Item): HTMLElement {
  const p = el("p", "watch-excerpt");
  const fromReasons = reasonSpans(item);
  const spans = (fromReasons.length ? fromReasons
    : (item.explanation.spans ?? []).filter((s) => s.weight > 0).map((s) => ({ ...s, holding: false })))
    .sort((a, b) => a.start - b.start);
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    p.append(item.excerpt.slice(at, span.start),
      el("mark", span.holding ? "is-holding" : "", item.excerpt.slice(span.start, span.end)));
    at = span.end;
  }
  p.append(item.excerpt.slice(at));
  return p;
}

async function showImage(item: Item, holder: HTMLElement): Promise<void> {
  const response = await fetch(`${API}/items/${item.id}/image?reason=review`, {
    headers: { Authorization: `Bearer ${currentToken() ?? ""}` },
  });
  if (!response.ok) throw new Error(`${response.status}`);
  const img = el("img", "watch-image is-blurred");
  img.alt = t("watch.show_image");
  img.src = URL.createObjectURL(await response.blob());
  img.addEventListener("click", () => img.classList.remove("is-blurred"));
  holder.replaceChildren(img);
}

function actions(item: Item): HTMLElement {
  const box = el("form", "watch-actions");
  const reason = el("input");
  reason.type = "text";
  reason.name = "reason";
  reason.required = true;
  reason.minLength = 3;
  reason.maxLength = 500;
  reason.placeholder = t("watch.reason");
  reason.setAttribute("aria-label", t("watch.reason"));
  box.append(reason);
  const choices: [string, string][] = [
    ["remove", "btn-danger"],
    ["keep", "btn-secondary"],
    ["escalate", "btn-secondary"],
  ];
  for (const [decision, style] of choices) {
    const button = el("button", `btn ${style}`, t(`watch.${decision}`));
    button.type = "submit";
    button.value = decision;
    button.dataset.decision = decision;
    box.append(button);
  }
  box.addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    const decision = submitter?.value ?? "keep";
    void api<{ status: string; second_opinion_needed: boolean }>(`${API}/items/${item.id}/decisions`, {
      method: "POST",
      body: JSON.stringify({ decision, reason: reason.value }),
    }).then(
      (r) => {
        say("console", r.second_opinion_needed ? t("watch.second_opinion") : t("watch.decided"), true);
        if (r.status !== "removed") return refresh();
        // Removed: keep the card, now with only the order form (queue -> decision -> order).
        box.replaceWith(el("p", "form-message is-ok", `${t("watch.decided")} ${t("watch.status.removed")}`));
        return refreshOrders();
      },
      (e: unknown) => say("console", failureText(e), false),
    );
  });
  const order = el("form", "watch-actions watch-order-form");
  const instrument = el("select");
  instrument.name = "instrument";
  instrument.setAttribute("aria-label", t("watch.instrument"));
  for (const kind of ["order", "notice"]) instrument.append(new Option(t(`watch.instrument.${kind}`), kind));
  instrument.value = TERRORIST.includes(item.category) ? "order" : "notice";
  const category = el("select");
  category.name = "content_category";
  category.setAttribute("aria-label", t("watch.content_category"));
  category.append(new Option(`${t("watch.content_category")} : ${t("watch.as_classified")}`, ""));
  for (const c of ILLEGAL) category.append(new Option(t(`watch.cat.${c}`), c));
  const basis = el("input");
  basis.type = "text";
  basis.name = "legal_basis";
  basis.required = true;
  basis.setAttribute("aria-label", t("watch.legal_basis"));
  const emergency = el("input");
  emergency.type = "checkbox";
  emergency.name = "emergency";
  const label = el("label", "", ` ${t("watch.emergency")}`);
  label.prepend(emergency);
  const fitInstrument = (): void => {
    const isOrder = instrument.value === "order";
    basis.value = t(`watch.basis.${instrument.value}`);
    label.hidden = !isOrder; // the 12-hour notice and its waiver belong to the TCO only
    if (!isOrder) emergency.checked = false;
  };
  fitInstrument();
  instrument.addEventListener("change", fitInstrument);
  const submit = el("button", "btn", t("watch.order"));
  submit.type = "submit";
  submit.dataset.action = "order";
  order.append(instrument, category, basis, label, submit);
  order.addEventListener("submit", (event) => {
    event.preventDefault();
    void api<Order>(`${API}/orders`, {
      method: "POST",
      body: JSON.stringify({
        item_id: item.id,
        instrument: instrument.value,
        content_category: category.value || null,
        legal_basis: basis.value,
        reason: reason.value || t(`watch.cat.${category.value || item.category}`),
        emergency: emergency.checked,
      }),
    }).then(
      (sent) => {
        const message = sent.status === "proposed" ? "watch.proposed"
          : sent.instrument === "notice" ? "watch.notice_sent" : "watch.ordered";
        say("console", t(message), true);
        return refreshOrders();
      },
      (e: unknown) => say("console", failureText(e), false),
    );
  });
  const wrap = el("div");
  wrap.append(box, order);
  return wrap;
}

function itemCard(item: Item): HTMLElement {
  const li = el("li", "watch-item");
  li.dataset.itemId = String(item.id);
  const head = el("div", "watch-item-head");
  head.append(
    el("span", `watch-cat watch-cat-${item.category}`, t(`watch.cat.${item.category}`)),
    el("span", "status-pill", `${t("watch.score")} ${item.score.toFixed(2)}`),
    el("span", "status-pill",
      `${item.report_count} ${t(item.report_count === 1 ? "watch.report_one" : "watch.reports")}`),
    el("span", "status-pill", `${t("watch.priority")} ${item.priority.toFixed(0)}`),
    el("span", "status-pill", t(`watch.item.${item.status}`)),
  );
  const url = el("p", "watch-item-url", `${item.platform} · ${item.url}`);
  // The words behind the decision and why each counts, in the page language.
  const why = el("p", "watch-why", `${t("watch.why")} `
    + reasonsOf(item).map((r) => reasonText(r.kind, r.text)).join(" · ")
    + (item.explanation.stage === 2 ? ` (${t("watch.stage2")})` : ""));
  li.append(head, url, excerpt(item), why);
  if (item.has_image) {
    const holder = el("div");
    const button = el("button", "btn btn-secondary", t("watch.show_image"));
    button.type = "button";
    button.addEventListener("click", () => {
      void showImage(item, holder).catch((e: unknown) => say("console", failureText(e), false));
    });
    holder.append(button);
    li.append(holder);
  }
  if (currentRole() === "moderator") li.append(actions(item));
  return li;
}

function orderRow(body: HTMLTableSectionElement, order: Order): void {
  const row = body.insertRow();
  row.className = `watch-order-row${order.overdue ? " is-overdue" : ""}${order.status === "proposed" ? " is-proposed" : ""}`;
  row.dataset.orderId = String(order.id);
  row.dataset.instrument = order.instrument;
  const what = row.insertCell();
  what.append(`#${order.id} · ${order.platform}`, el("br"),
    el("small", "", t(`watch.instrument.${order.instrument}`)));
  row.insertCell().textContent = order.url;
  const status = row.insertCell();
  status.append(el("span", `status-pill watch-status-${order.status}`, t(`watch.status.${order.status}`)));
  const who = `${t("watch.proposed_by")} ${order.issued_by}`
    + (order.approved_by ? ` · ${t("watch.approved_by")} ${order.approved_by}` : "");
  status.append(el("br"), el("small", "", who));
  const deadline = row.insertCell();
  if (order.deadline_at) {
    const at = new Date(order.deadline_at);
    const left = Math.round((at.getTime() - Date.now()) / 60000);
    deadline.textContent = `${t("watch.deadline")} ${timeFormat.format(at)}`
      + (order.status === "received" && left >= 0 ? ` (${left} ${t("watch.minutes_left")})` : "");
  } else if (order.instrument === "notice") {
    deadline.textContent = t("watch.no_clock");
  }
  if (order.overdue) deadline.append(" ", el("span", "watch-overdue", t("watch.overdue")));
  if (order.status === "proposed" && currentRole() === "moderator") deadline.append(proposalActions(order));
}

/** A second moderator approves (the server refuses the author) or withdraws a proposal. */
function proposalActions(order: Order): HTMLElement {
  const box = el("div", "watch-actions");
  const approve = el("button", "btn btn-danger btn-small", t("watch.approve"));
  approve.type = "button";
  approve.dataset.action = "approve";
  approve.addEventListener("click", () => {
    void api(`${API}/orders/${order.id}/approve`, { method: "POST" }).then(
      () => { say("console", t("watch.approved"), true); return refreshOrders(); },
      (e: unknown) => say("console", failureText(e), false),
    );
  });
  const reason = el("input");
  reason.type = "text";
  reason.minLength = 3;
  reason.maxLength = 1000;
  reason.placeholder = t("watch.withdraw_reason");
  reason.setAttribute("aria-label", t("watch.withdraw_reason"));
  const withdraw = el("button", "btn btn-secondary btn-small", t("watch.withdraw"));
  withdraw.type = "button";
  withdraw.dataset.action = "withdraw";
  withdraw.addEventListener("click", () => {
    void api(`${API}/orders/${order.id}/withdraw`, {
      method: "POST",
      body: JSON.stringify({ reason: reason.value }),
    }).then(
      () => { say("console", t("watch.withdrawn"), true); return refreshOrders(); },
      (e: unknown) => say("console", failureText(e), false),
    );
  });
  box.append(approve, reason, withdraw);
  return box;
}

let queueAsked = 0; // the latest queue read's ticket

async function refresh(): Promise<void> {
  const ticket = (queueAsked += 1);
  const queue = await api<{ items: Item[] }>(`${API}/queue?limit=50`);
  // Two decisions in a row: the read made after the first can answer after the one made after
  // the second, and would put the item just decided back in the queue with its buttons.
  if (ticket !== queueAsked) return;
  const list = $<HTMLOListElement>('[data-list="queue"]');
  list.replaceChildren(...queue.items.map(itemCard));
  if (queue.items.length === 0) list.append(el("li", "", t("watch.empty")));
  await refreshOrders();
}

/** Orders whose story is over: folded away so that the open ones and the queue stay in view. */
const DONE = ["removed", "withdrawn", "actioned", "declined"];

async function refreshOrders(): Promise<void> {
  const orders = await api<Order[]>(`${API}/orders`);
  const body = $<HTMLTableSectionElement>('[data-table="orders"]');
  const doneBody = $<HTMLTableSectionElement>('[data-table="orders-done"]');
  body.replaceChildren();
  doneBody.replaceChildren();
  const done = orders.filter((o) => DONE.includes(o.status));
  for (const order of orders) orderRow(DONE.includes(order.status) ? doneBody : body, order);
  if (orders.length === done.length) body.insertRow().insertCell().textContent = t("watch.no_orders");
  const fold = $<HTMLDetailsElement>("[data-orders-done]");
  fold.hidden = done.length === 0;
  $<HTMLElement>("[data-orders-done] summary").textContent = `${t("watch.orders_done")} (${done.length})`;
}

async function openConsole(): Promise<void> {
  // Who is deciding: the account's name, then its role (decisions are audited under the name).
  $<HTMLElement>("[data-whoami]").textContent =
    `${t("watch.signed_in")} ${currentUser() ?? ""} · ${t(`watch.role.${currentRole() ?? ""}`)}`;
  try {
    await refresh();
  } catch (error) {
    staff.showLogin(failureText(error));
  }
}

const staff = mountStaffLogin({ root, roles: ["moderator", "analyst"], onSignedIn: openConsole });
$<HTMLButtonElement>('[data-action="refresh"]').addEventListener("click", () => {
  void refresh().catch((e: unknown) => say("console", failureText(e), false));
});
