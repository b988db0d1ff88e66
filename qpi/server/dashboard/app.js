// The dashboard of `qpi serve`: plain JavaScript over the same REST API as the clients.
// Every value from the server is put in the page as text (never as HTML).
"use strict";

const state = { token: null, admin: false, user: null, view: null, timer: null, jobs: [], selected: null };
const MAX_BARS = 16;
const REFRESH_MS = 2000;

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === undefined || cell === null ? "-" : String(cell);
    tr.appendChild(td);
  }
  return tr;
}

function statusBadge(status) { return el("span", status, "status " + String(status).replace(/[^a-z]/g, "")); }

function button(text, onclick, cls) {
  const b = el("button", text, cls);
  b.type = "button";
  b.addEventListener("click", onclick);
  return b;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!response.ok) {
    if (response.status === 401) logout();
    throw new Error((data && data.message) || ("HTTP " + response.status));
  }
  return data;
}

function items(data) { return Array.isArray(data) ? data : (data && data.items) || []; }

function showError(err) { $("error").textContent = err ? String(err.message || err) : ""; }

// -- login ---------------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const form = event.target;
  const admin = form.admin.checked;
  const collection = admin ? "_superusers" : "users";
  $("login-error").textContent = "";
  try {
    const data = await api("POST", `/api/collections/${collection}/auth-with-password`,
      { identity: form.email.value, password: form.password.value });
    state.token = data.token; state.admin = admin; state.user = data.record;
    sessionStorage.setItem("qpi-session", JSON.stringify({ token: data.token, admin, user: data.record }));
    form.password.value = "";
    enter();
  } catch (err) {
    $("login-error").textContent = "Login failed: " + err.message;
  }
}

function logout() {
  state.token = null; state.user = null;
  sessionStorage.removeItem("qpi-session");
  clearInterval(state.timer);
  $("nav").hidden = true;
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== "login";
}

function enter() {
  $("nav").hidden = false;
  $("who").textContent = (state.user && state.user.email) + (state.admin ? " (admin)" : "");
  for (const a of document.querySelectorAll(".admin-only")) a.hidden = !state.admin;
  for (const a of document.querySelectorAll(".user-only")) a.hidden = state.admin;
  show(location.hash.slice(1) || "qpus");
}

// -- views ---------------------------------------------------------------------------------------

const VIEWS = {
  "qpus": loadQpus, "jobs": loadJobs, "tokens": loadTokens, "account": loadAccount,
  "users": loadUsers, "admin-qpus": loadAdminQpus,
};

function show(name) {
  if (!state.token) return;
  if (!VIEWS[name]) name = "qpus";
  state.view = name;
  showError(null);
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== name;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === name);
  clearInterval(state.timer);
  refresh();
  if (name === "jobs") state.timer = setInterval(refresh, REFRESH_MS);
}

async function refresh() {
  try { await VIEWS[state.view](); } catch (err) { showError(err); }
}

// Every QPU with its status (the /api/qpus route lists the online ones only).
async function allQpus() { return items(await api("GET", "/api/collections/qpus/records?perPage=500&sort=created")); }

async function loadQpus() {
  const qpus = await allQpus();
  $("qpu-rows").replaceChildren(...qpus.map(q => row([q.name, statusBadge(q.status), q.num_qubits, el("code", q.id)])));
  return qpus;
}

async function loadJobs() {
  const filter = $("job-filter").value;
  const qpus = Object.fromEntries((await allQpus()).map(q => [q.id, q.name]));
  let jobs = items(await api("GET", "/api/jobs?sort=-created&limit=200"));
  if (filter) jobs = jobs.filter(j => j.status === filter);
  state.jobs = jobs;
  $("job-rows").replaceChildren(...jobs.map(job => {
    const circuits = (job.payload && job.payload.circuits) || [];
    const actions = el("span");
    actions.appendChild(button("Show", () => showJob(job.id), "secondary"));
    if (job.status === "pending" || job.status === "running") {
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(button("Cancel", () => cancelJob(job.id)));
    }
    const tr = row([el("code", job.id), statusBadge(job.status), qpus[job.qpu_target] || job.qpu_target,
      circuits.length, job.payload && job.payload.shots, job.created, actions]);
    tr.dataset.job = job.id;
    if (job.id === state.selected) tr.classList.add("selected");
    return tr;
  }));
  if (state.selected) renderJob(jobs.find(j => j.id === state.selected));
}

async function cancelJob(id) {
  try { await api("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`); await loadJobs(); } catch (err) { showError(err); }
}

async function showJob(id) {
  state.selected = id;
  try { renderJob(await api("GET", `/api/jobs/${encodeURIComponent(id)}`)); } catch (err) { showError(err); }
}

function renderJob(job) {
  if (!job) return;
  $("job-detail").hidden = false;
  $("detail-id").textContent = job.id;
  $("detail-status").replaceWith(Object.assign(statusBadge(job.status), { id: "detail-status" }));
  const results = job.results && typeof job.results === "object" ? job.results : {};
  $("detail-error").textContent = job.status === "failed" ? String(results.error || job.error || "the job failed") : "";
  const entries = Array.isArray(results.circuit_results) ? results.circuit_results : [];
  $("detail-histograms").replaceChildren(...entries.slice(0, 8).map((entry, i) => {
    const box = el("div", null, "histogram");
    box.appendChild(el("div", `experiment ${i}` + (entry.shots ? `, ${entry.shots} shots` : "")));
    box.appendChild(histogram(entry.counts || {}));
    return box;
  }));
  const circuits = (job.payload && job.payload.circuits) || [];
  $("detail-circuits").replaceChildren(...circuits.map(c => {
    const pre = el("pre", String(c.circuit || "").slice(0, 20000), "qasm");
    return pre;
  }));
}

// An SVG bar chart of the most frequent outcomes.
function histogram(counts) {
  const NS = "http://www.w3.org/2000/svg";
  const top = Object.entries(counts).map(([k, v]) => [k, Number(v) || 0])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_BARS);
  const svg = document.createElementNS(NS, "svg");
  const total = Object.values(counts).reduce((s, v) => s + (Number(v) || 0), 0) || 1;
  const peak = top.length ? top[0][1] || 1 : 1;
  const labelW = 12 + 7 * Math.max(1, ...top.map(([k]) => k.length));
  const barH = 16, gap = 4, chartW = 320;
  svg.setAttribute("width", labelW + chartW + 110);
  svg.setAttribute("height", Math.max(1, top.length) * (barH + gap));
  svg.setAttribute("class", "histogram-svg");
  top.forEach(([key, n], i) => {
    const y = i * (barH + gap);
    const label = document.createElementNS(NS, "text");
    label.setAttribute("x", labelW - 6); label.setAttribute("y", y + barH - 4); label.setAttribute("text-anchor", "end");
    label.textContent = key;
    const rect = document.createElementNS(NS, "rect");
    const w = Math.max(1, Math.round(chartW * n / peak));
    rect.setAttribute("x", labelW); rect.setAttribute("y", y); rect.setAttribute("width", w); rect.setAttribute("height", barH);
    rect.setAttribute("class", "bar"); rect.dataset.outcome = key; rect.dataset.count = n;
    const value = document.createElementNS(NS, "text");
    value.setAttribute("x", labelW + w + 4); value.setAttribute("y", y + barH - 4);
    value.textContent = `${n} (${(100 * n / total).toFixed(1)}%)`;
    svg.append(label, rect, value);
  });
  return svg;
}

async function loadTokens() {
  const tokens = items(await api("GET", "/api/tokens"));
  $("token-rows").replaceChildren(...tokens.map(t => row([t.name, t.created, el("code", t.id),
    button("Revoke", () => revokeToken(t.id))])));
}

async function createToken(event) {
  event.preventDefault();
  try {
    const data = await api("POST", "/api/tokens", { name: event.target.name.value });
    $("new-token").hidden = false;
    $("new-token").querySelector("code").textContent = data.token;
    event.target.reset();
    await loadTokens();
  } catch (err) { showError(err); }
}

async function revokeToken(id) {
  try { await api("DELETE", `/api/tokens/${encodeURIComponent(id)}`); await loadTokens(); } catch (err) { showError(err); }
}

async function loadAccount() {
  const me = await api("GET", `/api/collections/users/records/${encodeURIComponent(state.user.id)}`);
  const seconds = Number(me.qpu_seconds) || 0;
  $("balance").textContent = seconds > 1e5 ? `${seconds.toFixed(0)} s (unlimited for practical purposes)` : `${seconds.toFixed(1)} s`;
  const slots = items(await api("GET", "/api/collections/time_slots/records?perPage=200&sort=start_time"));
  $("booking-rows").replaceChildren(...slots.map(s => row([s.start_time, s.end_time,
    s.booked_by === state.user.id ? "you" : (s.booked_by || "free")])));
}

async function loadUsers() {
  const users = items(await api("GET", "/api/collections/users/records?perPage=200"));
  $("user-rows").replaceChildren(...users.map(u => row([u.email, Number(u.qpu_seconds).toFixed(1),
    u.verified ? "yes" : "no", u.created, el("code", u.id)])));
}

async function loadAdminQpus() {
  const qpus = await allQpus();
  $("admin-qpu-rows").replaceChildren(...qpus.map(q => row([q.name, statusBadge(q.status), q.num_qubits,
    q.enabled ? "yes" : "no",
    button(q.enabled ? "Disable" : "Enable", () => toggleQpu(q.id, !q.enabled), "secondary")])));
}

async function toggleQpu(id, enabled) {
  try { await api("POST", "/api/op/qpu/toggle", { id, enabled }); await loadAdminQpus(); } catch (err) { showError(err); }
}

async function createQpu(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/api/op/qpus/create", { name: form.name.value, num_qubits: Number(form.num_qubits.value), executor_type: "mock" });
    form.reset();
    await loadAdminQpus();
  } catch (err) { showError(err); }
}

// -- start ---------------------------------------------------------------------------------------

window.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("token-form").addEventListener("submit", createToken);
  $("qpu-form").addEventListener("submit", createQpu);
  $("job-filter").addEventListener("change", refresh);
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  const saved = sessionStorage.getItem("qpi-session");
  if (saved) {
    try { Object.assign(state, JSON.parse(saved)); enter(); return; } catch (e) { sessionStorage.removeItem("qpi-session"); }
  }
  logout();
});
