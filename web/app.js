// MARS status page: fetch /api/v1 and draw it.  Every value from the
// cluster is put into the page with textContent or as an SVG attribute,
// never parsed as HTML, so a name or path holding markup shows as text.
"use strict";

const REFRESH_MS = 2000;
const CHART_WINDOW_S = 3 * 3600;
let lastEventId = 0;
const events = [];

// Optional bearer token: open the page as /#token=SECRET.
function authHeaders() {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  return m ? { Authorization: "Bearer " + decodeURIComponent(m[1]) } : {};
}

async function getJSON(path) {
  const r = await fetch(path, { headers: authHeaders(), cache: "no-store" });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}

function seconds(s) {
  if (s === null || s === undefined) return "never";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function drawMembers(cluster) {
  document.getElementById("uuid").textContent = cluster.uuid || "(no cluster)";
  document.getElementById("self").textContent = cluster.self;
  fill(document.querySelector("#members tbody"), cluster.members.map((m) => {
    const tr = el("tr");
    tr.dataset.host = m.host;
    tr.append(el("td", m.host), el("td", m.address),
      el("td", seconds(m.heartbeat_age_s), "num"),
      el("td", m.emergency ? "EmergencyMode" : m.alive ? "alive" : "silent",
        m.emergency || !m.alive ? "bad" : "ok"));
    return tr;
  }));
}

// Sync progress, with the remaining time while a sync runs at a known rate.
function syncText(res, p) {
  if (!res.size_bytes) return "-";
  const pct = (100 * p.sync_bytes / res.size_bytes).toFixed(1) + " %";
  if (p.sync_bytes >= res.size_bytes) return pct;
  return pct + (typeof p.sync_remaining_s === "number" ? ", " + seconds(p.sync_remaining_s) + " left"
    : ", time left unknown");
}

// This node's log while primary: durable of appended, and the writeback backlog.
function logText(p) {
  if (typeof p.log_durable_bytes !== "number") return "-";
  return bytes(p.log_durable_bytes) + " of " + bytes(p.log_end_bytes) + " durable, " +
    bytes(p.pending_writeback_bytes) + " writeback pending";
}

function replicaRow(res, p) {
  const tr = el("tr");
  tr.dataset.resource = res.name;
  tr.dataset.host = p.host;
  const cells = [
    el("td", res.name, "resource"), el("td", p.host, "host"), el("td", p.role, "role"),
    el("td", p.disk, "disk " + (p.disk === "UpToDate" ? "ok" : "warn")),
    el("td", p.repl, "repl"), el("td", p.flags, "flags"),
    el("td", bytes(p.lag_bytes), "num lag"), el("td", seconds(p.lag_s), "num"),
    el("td", syncText(res, p), "num sync"),
    el("td", logText(p), "num log"),
    el("td", p.device, "device"),
  ];
  tr.append(...cells);
  if (res.split_brain || res.emergency || p.role === "ForcedPrimary") tr.className = "bad";
  return tr;
}

function drawResources(doc) {
  const alarms = document.getElementById("alarms");
  const boxes = [];
  const rows = [];
  for (const res of doc.resources) {
    if (res.split_brain || res.emergency) {
      const d = el("div");
      d.dataset.resource = res.name;
      d.append(el("strong", (res.split_brain ? "SPLIT BRAIN" : "EMERGENCY MODE") + ": " + res.name),
        el("code", res.resolve));
      boxes.push(d);
    }
    if (!res.replicas.length) rows.push(replicaRow(res, { host: "", role: "None", disk: "NotJoined",
      repl: "NotJoined", flags: "------", lag_bytes: 0, lag_s: 0, sync_bytes: 0, device: "" }));
    for (const p of [...res.replicas].sort((a, b) => a.host < b.host ? -1 : 1))
      rows.push(replicaRow(res, p));
  }
  alarms.replaceChildren(...boxes);
  fill(document.querySelector("#resources tbody"), rows);
}

async function pollEvents() {
  const doc = await getJSON("/api/v1/events?after=" + lastEventId + "&limit=200");
  for (const e of doc.events) {
    events.unshift(e);
    lastEventId = Math.max(lastEventId, e.id);
  }
  events.splice(50);
  document.getElementById("events").replaceChildren(...events.map((e) => {
    const li = el("li");
    li.append(el("span", new Date(e.t_ms).toLocaleString() + " "), el("span", e.kind, "kind"),
      el("span", e.detail));
    return li;
  }));
}

const SVG = "http://www.w3.org/2000/svg";

function line(points, cls, w, h, t0, t1) {
  const max = Math.max(1, ...points.map((p) => p[1]));
  const pl = document.createElementNS(SVG, "polyline");
  pl.setAttribute("class", cls);
  pl.setAttribute("points", points.map((p) =>
    ((p[0] - t0) / (t1 - t0) * w).toFixed(1) + "," + (h - p[1] / max * (h - 2)).toFixed(1)).join(" "));
  return [pl, max];
}

function chart(title, series, now) {
  // The window is 3 hours, or since the first sample if history is younger.
  const first = series.lag.length ? series.lag[0][0] : now;
  const w = 300, h = 60, t0 = Math.min(now - 1000, Math.max(now - CHART_WINDOW_S * 1000, first));
  const fig = el("figure");
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  const axis = document.createElementNS(SVG, "line");
  axis.setAttribute("class", "axis");
  axis.setAttribute("x1", 0); axis.setAttribute("x2", w);
  axis.setAttribute("y1", h - 1); axis.setAttribute("y2", h - 1);
  svg.append(axis);
  const [lag, lagMax] = line(series.lag, "lag", w, h, t0, now);
  const [rate, rateMax] = line(series.rate, "rate", w, h, t0, now);
  svg.append(lag, rate);
  fig.append(svg, el("figcaption", title + " — lag (red) max " + bytes(lagMax) +
    ", throughput (blue) max " + bytes(Math.round(rateMax)) + "/s"));
  return fig;
}

async function drawCharts() {
  const doc = await getJSON("/api/v1/history?since_s=" + CHART_WINDOW_S + "&limit=20000");
  const by = new Map();
  for (const s of doc.samples) {
    const k = s.resource + " on " + s.host;
    if (!by.has(k)) by.set(k, { lag: [], rate: [], prev: null });
    const e = by.get(k);
    e.lag.push([s.t_ms, s.lag_bytes]);
    if (e.prev && s.t_ms > e.prev.t_ms)
      e.rate.push([s.t_ms, Math.max(0, s.logfile_bytes - e.prev.logfile_bytes) * 1000 / (s.t_ms - e.prev.t_ms)]);
    e.prev = s;
  }
  const now = Date.now();
  document.getElementById("charts").replaceChildren(...[...by.entries()].sort()
    .map(([k, v]) => chart(k, v, now)));
}

async function refresh() {
  const err = document.getElementById("error");
  try {
    drawMembers(await getJSON("/api/v1/cluster"));
    drawResources(await getJSON("/api/v1/resources"));
    await pollEvents();
    await drawCharts();
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    err.hidden = true;
  } catch (e) {
    err.textContent = "refresh failed: " + e.message;
    err.hidden = false;
  }
  setTimeout(refresh, REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", refresh);
