// partnercart dashboard: plain DOM, no framework. Every value from the server is set as text.
"use strict";

const API = "/_partnercart";
const KEY_STORE = "partnercart.adminKey";
const state = { partner: null, allRequests: false, openRequest: null, timer: null };

function $(id) { return document.getElementById(id); }

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setStatus(text, isError) {
  const node = $("status");
  node.textContent = text;
  node.className = isError ? "error" : "";
}

function askKey(message) {
  $("key-error").textContent = message || "";
  const dialog = $("key-dialog");
  if (!dialog.open) dialog.showModal();
  $("key-input").focus();
}

async function api(method, path, body) {
  const key = sessionStorage.getItem(KEY_STORE);
  if (!key) { askKey(); throw new Error("no admin key"); }
  const init = { method, headers: { "X-Partnercart-Admin-Key": key } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY_STORE);
    askKey("That key was refused; check it and try again.");
    throw new Error("admin key refused");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const why = data && (data.description || data.message) || response.statusText;
    throw new Error(`${response.status}: ${why}`);
  }
  return data;
}

async function action(label, fn) {
  try {
    setStatus(label + "…");
    await fn();
    setStatus(label + ": done");
  } catch (err) {
    if (String(err.message).includes("admin key")) {
      setStatus(label + ": waiting for the admin key", true);  // the key dialog is open
      return;
    }
    setStatus(label + " failed: " + err.message, true);
  }
}

function span(seconds) {
  const sign = seconds < 0 ? "behind" : "ahead of";
  let rest = Math.abs(Math.round(seconds));
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    if (rest >= size) { parts.push(Math.floor(rest / size) + unit); rest %= size; }
  }
  return parts.length ? `${parts.join(" ")} ${sign}` : "in step with";
}

function short(id) { return id ? String(id).slice(0, 8) : ""; }
function when(ts) { return ts ? ts.replace("T", " ").replace(/\.\d+Z$/, "Z") : ""; }

// Partners.

async function loadPartners() {
  const data = await api("GET", "/partners");
  const list = $("partners");
  list.replaceChildren();
  if (!data.items.length) list.append(el("li", { class: "none" }, "No partners yet: create a customer with a partner token, or seed."));
  for (const p of data.items) {
    const item = el("li", { dataset: { partner: p.id }, class: p.id === state.partner ? "selected" : "",
      onclick: () => selectPartner(p.id) },
      p.id, el("span", { class: "meta" }, `${p.customers} customers · ${p.carts} carts`));
    list.append(item);
  }
  if (!state.partner && data.items.length) await selectPartner(data.items[0].id);
}

async function selectPartner(id) {
  state.partner = id;
  for (const li of $("partners").children) li.classList.toggle("selected", li.dataset.partner === id);
  $("tenant").hidden = false;
  $("tenant-id").textContent = id;
  if (!$("fault-partner").value) $("fault-partner").placeholder = "any (e.g. " + short(id) + "…)";
  await Promise.all([loadClock(), loadCustomers(), loadCarts(), loadOrders(), loadRequests()]);
}

// Clock.

function showClock(c) {
  $("clock-now").textContent = when(c.now);
  $("clock-mode").textContent = c.frozen ? "Frozen: time stands still until you move it."
    : c.stored ? `Running, ${span(c.offsetSeconds)} the server clock.`
    : "Following the server clock.";
}

async function loadClock() { showClock(await api("GET", `/partners/${state.partner}/clock`)); }

async function advance(duration) {
  await action(`Advance ${duration}`, async () => {
    showClock(await api("POST", `/partners/${state.partner}/clock/advance`, { duration }));
    await Promise.all([loadCarts(), loadOrders()]);  // both are shown on the partner's clock
  });
}

// Customers, carts, orders.

async function loadCustomers() {
  const data = await api("GET", `/partners/${state.partner}/customers`);
  $("customers-count").textContent = `(${data.items.length})`;
  $("customers").replaceChildren(...(data.items.length ? data.items.map((c) =>
    el("tr", {}, el("td", { class: "mono", title: c.id }, c.id), el("td", {}, c.companyName || ""),
      el("td", {}, c.domain || ""), el("td", {}, c.country)))
    : [el("tr", {}, el("td", { colspan: 4, class: "none" }, "none"))]));
}

function cartBadge(cart) {
  if (cart.expired) return el("span", { class: "badge expired" }, "Expired");
  const cls = cart.status === "Active" ? "active" : "other";
  return el("span", { class: "badge " + cls }, cart.status);
}

async function loadCarts() {
  const data = await api("GET", `/partners/${state.partner}/carts`);
  $("carts-count").textContent = `(${data.items.length})`;
  const rows = data.items.map((cart) => el("tr", { dataset: { cart: cart.id }, class: "cart-row" },
    el("td", { class: "mono", title: cart.id }, cart.id),
    el("td", { class: "mono", title: cart.customerId }, short(cart.customerId) + "…"),
    el("td", { class: "cart-state" }, cartBadge(cart)),
    el("td", {}, when(cart.expiresAt)),
    el("td", {}, cart.version),
    el("td", {}, el("ul", { class: "list" }, cart.lineItems.map((l) => el("li", {},
      `#${l.id} ${l.catalogItemId} × ${l.quantity}`,
      l.error ? el("span", { class: "meta line-error" }, `error ${l.error.code}: ${l.error.description}`) : null))))));
  $("carts").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: 6, class: "none" }, "none"))]));
}

async function loadOrders() {
  const data = await api("GET", `/partners/${state.partner}/orders`);
  const box = $("orders");
  if (!data.available || !data.items.length) {
    box.replaceChildren(el("p", { class: "none" }, data.available ? "none" : "none (this server has no orders yet)"));
    return;
  }
  // Status and provisioning as GET .../orders shows them now, on the partner's clock.
  const head = ["order", "customer", "status", "billing", "created", "total", "lines"];
  box.replaceChildren(el("table", {},
    el("thead", {}, el("tr", {}, head.map((n) => el("th", {}, n)))),
    el("tbody", {}, data.items.map((o) => el("tr", { dataset: { order: o.id }, class: "order-row" },
      el("td", { class: "mono", title: o.cartId ? `from cart ${o.cartId}` : "" }, o.id),
      el("td", { class: "mono", title: o.customerId }, short(o.customerId) + "…"),
      el("td", { class: "order-status" },
        el("span", { class: "badge " + (o.status === "completed" ? "active" : "other") }, o.status || "")),
      el("td", {}, o.billingCycle || ""),
      el("td", {}, when(o.createdAt)),
      el("td", {}, o.totalPrice == null ? "" : `${o.totalPrice} ${o.currency || ""}`),
      el("td", {}, el("ul", { class: "list" }, o.lineItems.map((l) => el("li", {},
        `#${l.lineItemNumber} ${l.offerId} × ${l.quantity}`,
        l.subscriptionId ? el("span", { class: "meta" }, ` subscription ${short(l.subscriptionId)}…`) : null)))))))));
}

// Fault rules.

function describeMatch(r) {
  const parts = [];
  if (r.partner) parts.push("partner " + short(r.partner) + "…");
  if (r.customer) parts.push("customer " + short(r.customer) + "…");
  if (r.method) parts.push(r.method);
  if (r.route) parts.push(r.route);
  return parts.length ? parts.join(" · ") : "every call";
}

function describeAction(r) {
  const delay = r.latencyMs ? ` (+${r.latencyMs} ms)` : "";
  const answer = r.status === 429 ? `429, Retry-After ${r.retryAfter}s` : `${r.status} code ${r.code}`;
  switch (r.action) {
    case "status": return answer + delay;
    case "latency": return `wait ${r.latencyMs} ms`;
    case "drop": return "close the connection" + delay;
    case "apply_then_status": return "apply, then " + answer + delay;
    default: return "apply, then close the connection" + delay;
  }
}

async function loadFaults() {
  const data = await api("GET", "/faults");
  const rows = data.items.map((r) => el("tr", { dataset: { rule: r.id }, class: r.spent ? "spent" : "" },
    el("td", { class: "mono", title: r.id }, short(r.id)),
    el("td", {}, describeMatch(r)),
    el("td", {}, `from call ${r.nth}, ` + (r.times ? `${r.times} time(s)` : "always")),
    el("td", {}, describeAction(r)),
    el("td", {}, `${r.seen} / ${r.fired}`, r.spent ? el("span", { class: "badge other" }, " spent") : null),
    el("td", {}, el("button", { type: "button", class: "danger", onclick: () => deleteFault(r.id) }, "Delete"))));
  $("faults").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: 6, class: "none" }, "No rules: every call is served normally."))]));
}

async function deleteFault(id) {
  await action("Delete rule", async () => { await api("DELETE", `/faults/${id}`); await loadFaults(); });
}

async function addFault(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const spec = {};
  for (const [name, raw] of form.entries()) {
    const value = String(raw).trim();
    if (value === "") continue;
    spec[name] = ["nth", "times", "status", "code", "retryAfter", "latencyMs"].includes(name) ? Number(value) : value;
  }
  await action("Add rule", async () => { await api("POST", "/faults", spec); await loadFaults(); });
}

// Request log.

function requestNotes(r) {
  const notes = [];
  if (r.fault) notes.push(el("span", { class: "badge fault" }, `fault: ${r.faultAction}`));
  if (r.replayed) notes.push(el("span", { class: "badge replay" }, "replay"));
  return notes;
}

function detail(r) {
  const headers = (h) => Object.entries(h).map(([k, v]) => `${k}: ${v}`).join("\n");
  return el("tr", { class: "detail" }, el("td", { colspan: 6 },
    el("div", {}, `Request id ${r.requestId || ""} · correlation id ${r.correlationId || ""} · route ${r.route || "?"}`),
    el("h3", {}, "Request"), el("pre", {}, headers(r.requestHeaders) + (r.requestBody ? "\n\n" + r.requestBody : "")),
    el("h3", {}, "Response"), el("pre", {}, r.dropped ? "(connection closed, no answer)"
      : headers(r.responseHeaders) + (r.responseBody ? "\n\n" + r.responseBody : ""))));
}

async function loadRequests() {
  const query = state.allRequests || !state.partner ? "" : `&partner=${state.partner}`;
  const data = await api("GET", `/requests?limit=100${query}`);
  const rows = [];
  for (const r of data.items) {
    rows.push(el("tr", { class: "clickable", onclick: () => { state.openRequest = state.openRequest === r.id ? null : r.id; loadRequests(); } },
      el("td", {}, when(r.at)), el("td", {}, r.method), el("td", { class: "mono" }, r.path + (r.query ? "?" + r.query : "")),
      el("td", {}, r.dropped ? "dropped" : r.status), el("td", {}, r.durationMs.toFixed(1)), el("td", {}, requestNotes(r))));
    if (state.openRequest === r.id) rows.push(detail(r));
  }
  $("requests").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: 6, class: "none" }, "none"))]));
}

// Wiring.

async function refresh() {
  await action("Refresh", async () => {
    await loadPartners();
    await loadFaults();
    if (state.partner) await selectPartner(state.partner);
    else await loadRequests();
  });
}

function wire() {
  $("key-form").addEventListener("submit", (event) => {
    const value = $("key-input").value.trim();
    if (!value) { event.preventDefault(); return; }
    sessionStorage.setItem(KEY_STORE, value);
    $("key-input").value = "";
    refresh();
  });
  $("refresh").addEventListener("click", refresh);
  $("auto-refresh").addEventListener("change", (event) => {
    clearInterval(state.timer);
    state.timer = event.target.checked ? setInterval(refresh, 3000) : null;
  });
  $("forget-key").addEventListener("click", () => { sessionStorage.removeItem(KEY_STORE); askKey(); });
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => advance(button.dataset.advance));
  }
  $("advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    advance($("advance-duration").value.trim());
  });
  $("set-form").addEventListener("submit", (event) => {
    event.preventDefault();
    action("Set clock", async () => {
      showClock(await api("PUT", `/partners/${state.partner}/clock`, { now: $("set-instant").value.trim() }));
      await Promise.all([loadCarts(), loadOrders()]);
    });
  });
  $("freeze").addEventListener("click", () => action("Freeze", async () => showClock(await api("POST", `/partners/${state.partner}/clock/freeze`))));
  $("unfreeze").addEventListener("click", () => action("Unfreeze", async () => showClock(await api("POST", `/partners/${state.partner}/clock/unfreeze`))));
  $("reset-tenant").addEventListener("click", () => {
    if (!window.confirm(`Delete every customer, cart, rule and log entry of ${state.partner}?`)) return;
    action("Reset partner", async () => {
      await api("POST", `/partners/${state.partner}/reset`);
      state.partner = null;
      $("tenant").hidden = true;
      await refresh();
    });
  });
  $("fault-form").addEventListener("submit", addFault);
  $("requests-all").addEventListener("change", (event) => { state.allRequests = event.target.checked; loadRequests(); });
  if (sessionStorage.getItem(KEY_STORE)) refresh(); else askKey();
}

document.addEventListener("DOMContentLoaded", wire);
