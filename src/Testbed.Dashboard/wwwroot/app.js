// The testbed dashboard's UI: plain JavaScript over the JSON API in /api, re-rendered on a 1.5 s poll
// when the stores' version counters change. Views are addressed by the URL hash (#/traces, #/trace/ID, ...).
"use strict";

const POLL_MS = 1500;
const ROW_HEIGHT = 30;
const PALETTE = ["#7aa2f7", "#9ece6a", "#e0af68", "#bb9af7", "#7dcfff", "#ff9e64", "#73daca", "#f7768e",
  "#c0caf5", "#2ac3de", "#b4f9f8", "#ffc777", "#c3e88d", "#fca7ea", "#82aaff", "#d4a373"];
const STAGE_COLORS = {
  "block.produce": "#565f89", "block.mine": "#bb9af7", "block.sign": "#9d7cd8", "block.announce": "#7dcfff", "block.receive": "#7aa2f7",
  "torrent.download": "#e0af68", "block.verify.signature": "#9ece6a", "block.verify.pow": "#73daca",
  "block.verify.transactions": "#4fbf7f", "vm.replay": "#ff9e64", "chain.reorg": "#f7768e",
};

const main = document.getElementById("main");
const state = { overview: null, versions: "", view: "", params: {}, peers: new Map(), timer: null, busy: false };
// Measurements the UI records about itself (read by the browser test and the benchmark).
window.dashboard = { traceListRenderMs: null, traceListRows: 0, lastRender: null };

// ---------- helpers ----------
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
async function api(path, options) {
  const response = await fetch(path, options);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!response.ok) {
    throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  }
  return body;
}
function toast(message, isError) {
  const element = document.getElementById("toast");
  element.textContent = message;
  element.className = "toast" + (isError ? " error" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => element.className = "toast hidden", isError ? 8000 : 3500);
}
function peerColor(peer) {
  if (!state.peers.has(peer)) state.peers.set(peer, PALETTE[state.peers.size % PALETTE.length]);
  return state.peers.get(peer);
}
function assignPeerColors(names) {
  [...names].sort(naturalCompare).forEach(peerColor);
}
function naturalCompare(a, b) {
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
function fmtMs(ms) {
  if (ms == null) return "";
  if (ms >= 1000) return (ms / 1000).toFixed(ms >= 10000 ? 1 : 2) + " s";
  if (ms >= 1) return ms.toFixed(ms >= 100 ? 0 : 1) + " ms";
  return (ms * 1000).toFixed(0) + " µs";
}
function fmtTime(unixMs) {
  if (!unixMs) return "";
  const d = new Date(unixMs);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}
function fmtNanos(nanos) { return fmtTime(nanos / 1e6); }
function short(text, n = 12) { text = String(text ?? ""); return text.length > n ? text.slice(0, n) + "…" : text; }
function qs(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, v);
  const s = search.toString();
  return s ? "?" + s : "";
}
function legend(names) {
  return `<div class="legend">${names.map(n => `<span><i class="swatch" style="background:${peerColor(n)}"></i>${esc(n)}</span>`).join("")}</div>`;
}
function niceTicks(max, count) {
  if (max <= 0) return [0];
  const raw = max / count;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * magnitude).find(s => s >= raw);
  const ticks = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(t);
  return ticks;
}

// ---------- routing ----------
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  return { view: parts[0] || "resources", id: parts[1] ? decodeURIComponent(parts[1]) : null, params };
}
const views = {};
async function render(force) {
  const route = parseHash();
  const key = route.view + "/" + (route.id || "") + JSON.stringify(route.params);
  const changed = key !== state.view;
  state.view = key;
  document.querySelectorAll("#nav a").forEach(a => a.classList.toggle("active",
    a.dataset.view === route.view || (route.view === "trace" && a.dataset.view === "traces")));
  const view = views[route.view] || views.resources;
  if (changed) main.innerHTML = `<div class="muted">Loading…</div>`;
  try {
    await view(route, changed || force);
  } catch (e) {
    main.innerHTML = `<div class="empty error-text">${esc(e.message)}</div>`;
  }
  window.dashboard.lastRender = Date.now();
}
window.addEventListener("hashchange", () => render(true));

async function poll() {
  if (state.busy) return;
  state.busy = true;
  try {
    const overview = await api("/api/overview");
    state.overview = overview;
    document.getElementById("status").textContent =
      `${overview.traces} traces · ${overview.spans} spans · ${overview.logs} logs · ${overview.metricSeries} series` +
      (overview.forwarding ? ` · forwarding ${overview.forwarding.sent} sent, ${overview.forwarding.failed} failed` : "");
    const versions = `${overview.traceVersion}/${overview.logVersion}/${overview.metricVersion}`;
    const route = parseHash();
    const live = ["resources", "console"].includes(route.view);
    if (versions !== state.versions || live) {
      state.versions = versions;
      if (!document.activeElement || !["INPUT", "SELECT"].includes(document.activeElement.tagName) || live) {
        await render(false);
      }
    }
  } catch (e) {
    document.getElementById("status").textContent = "dashboard unreachable: " + e.message;
  } finally {
    state.busy = false;
  }
}

// ---------- resources ----------
const COMMANDS = ["start", "stop", "restart", "kill", "pause", "resume"];
views.resources = async () => {
  let resources;
  try {
    resources = await api("/api/resources");
  } catch (e) {
    main.innerHTML = `<h2>Resources</h2><div class="empty">${esc(e.message)}</div>`;
    return;
  }
  assignPeerColors(resources.map(r => r.name));
  const rows = resources.map(r => {
    const urls = Object.entries(r.urls || {}).map(([name, url]) =>
      url.startsWith("http") ? `<a href="${esc(url)}" target="_blank">${esc(name)}: ${esc(url)}</a>` : `<span class="mono">${esc(name)}: ${esc(url)}</span>`).join("<br>");
    const allowed = new Set(r.commands || []);
    const buttons = COMMANDS.map(c => `<button data-resource="${esc(r.name)}" data-command="${c}" ${allowed.has(c) ? "" : "disabled"}>${c}</button>`).join("");
    return `<tr data-name="${esc(r.name)}">
      <td><i class="swatch" style="background:${peerColor(r.name)}"></i>${esc(r.name)}</td>
      <td>${esc(r.type)}</td>
      <td><span class="badge ${esc(r.state)}">${esc(r.state)}</span>${r.paused ? ' <span class="badge warn">paused</span>' : ""}</td>
      <td><span class="badge ${esc(r.health)}">${esc(r.health)}</span></td>
      <td>${urls}</td>
      <td class="mono">${r.pid ?? ""}</td>
      <td>${r.restarts}</td>
      <td class="muted">${r.startedAt ? fmtTime(Date.parse(r.startedAt)) : ""}${r.exitCode != null ? ` · exit ${r.exitCode}` : ""}</td>
      <td><div class="cmds">${buttons}</div>${r.message ? `<div class="problems">${esc(r.message)}</div>` : ""}</td>
      <td><a href="#/console/${encodeURIComponent(r.name)}">console</a> · <a href="#/traces?resource=${encodeURIComponent(r.name)}">traces</a> · <a href="#/logs?resource=${encodeURIComponent(r.name)}">logs</a></td>
    </tr>`;
  }).join("");
  main.innerHTML = `<h2>Resources</h2>
    <table id="resources"><thead><tr><th>Name</th><th>Type</th><th>State</th><th>Health</th><th>Endpoints</th><th>PID</th><th>Restarts</th><th>Started</th><th>Commands</th><th></th></tr></thead>
    <tbody>${rows || `<tr><td colspan="10" class="muted">No resources.</td></tr>`}</tbody></table>`;
  main.querySelectorAll("button[data-command]").forEach(b => b.addEventListener("click", async () => {
    b.disabled = true;
    toast(`${b.dataset.command} ${b.dataset.resource}…`);
    try {
      const result = await api(`/api/resources/${encodeURIComponent(b.dataset.resource)}/commands/${b.dataset.command}`, { method: "POST" });
      toast(`${b.dataset.command} ${b.dataset.resource}: now ${result.resource ? result.resource.state : "done"}`);
    } catch (e) {
      toast(`${b.dataset.command} ${b.dataset.resource} failed: ${e.message}`, true);
    }
    render(true);
  }));
};

// ---------- console ----------
views.console = async (route, fresh) => {
  let resources = [];
  try { resources = await api("/api/resources"); } catch (e) {
    main.innerHTML = `<h2>Console</h2><div class="empty">${esc(e.message)}</div>`;
    return;
  }
  const name = route.id || (resources[0] && resources[0].name);
  if (fresh || !document.getElementById("console")) {
    main.innerHTML = `<h2>Console</h2><div class="toolbar"><label>Resource <select id="console-resource">${resources.map(r =>
      `<option ${r.name === name ? "selected" : ""}>${esc(r.name)}</option>`).join("")}</select></label>
      <span class="muted" id="console-info"></span></div><div class="console mono" id="console"></div>`;
    document.getElementById("console-resource").addEventListener("change", e => location.hash = "#/console/" + encodeURIComponent(e.target.value));
  }
  if (!name) { document.getElementById("console").textContent = "No resources."; return; }
  const tail = await api(`/api/resources/${encodeURIComponent(name)}/console?tail=1000`);
  const box = document.getElementById("console");
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
  box.innerHTML = tail.lines.map(l => `<div class="${esc(l.stream)}">${esc(fmtTime(Date.parse(l.time)))} ${esc(l.text)}</div>`).join("") || `<span class="muted">No output yet.</span>`;
  document.getElementById("console-info").textContent = `${tail.lines.length} of ${tail.totalLines} lines`;
  if (atBottom || fresh) box.scrollTop = box.scrollHeight;
};

// ---------- filters shared by logs and traces ----------
async function sourceOptions(selected) {
  const sources = await api("/api/sources");
  assignPeerColors(sources);
  return `<option value="">(all)</option>` + sources.map(s => `<option ${s === selected ? "selected" : ""}>${esc(s)}</option>`).join("");
}
function bindFilters(view, names) {
  const apply = () => {
    const params = {};
    for (const n of names) { const el = document.getElementById(`${view}-${n}`); if (el && el.value) params[n] = el.value; }
    location.hash = `#/${view}` + qs(params);
  };
  for (const n of names) {
    const el = document.getElementById(`${view}-${n}`);
    if (!el) continue;
    el.addEventListener(el.tagName === "SELECT" ? "change" : "keydown", e => { if (el.tagName === "SELECT" || e.key === "Enter") apply(); });
  }
  const button = document.getElementById(`${view}-apply`);
  if (button) button.addEventListener("click", apply);
}

// ---------- structured logs ----------
views.logs = async route => {
  const p = route.params;
  const logs = await api("/api/logs" + qs({ resource: p.resource, level: p.level, text: p.text, traceId: p.traceId, limit: 1000 }));
  const levels = ["", "debug", "information", "warning", "error", "critical"];
  const rows = logs.slice().reverse().map(l => `<tr>
      <td class="mono muted">${fmtNanos(l.timeUnixNano)}</td>
      <td class="level-${esc(l.level)}">${esc(l.level)}</td>
      <td><i class="swatch" style="background:${peerColor(l.source)}"></i>${esc(l.source)}</td>
      <td class="muted">${esc(short(l.scope, 40))}</td>
      <td>${esc(l.body)}${l.attributes.length ? `<div class="muted mono">${l.attributes.slice(0, 8).map(a => `${esc(a.key)}=${esc(short(a.value, 60))}`).join(" ")}</div>` : ""}</td>
      <td>${l.traceId ? `<a class="mono" href="#/trace/${l.traceId}${l.spanId ? "?span=" + l.spanId : ""}">${short(l.traceId, 8)}</a>` : ""}</td>
    </tr>`).join("");
  main.innerHTML = `<h2>Structured logs</h2>
    <div class="toolbar">
      <label>Resource <select id="logs-resource">${await sourceOptions(p.resource)}</select></label>
      <label>Level <select id="logs-level">${levels.map(l => `<option value="${l}" ${l === (p.level || "") ? "selected" : ""}>${l || "(all)"}</option>`).join("")}</select></label>
      <label>Text <input id="logs-text" value="${esc(p.text || "")}" placeholder="contains…"></label>
      ${p.traceId ? `<label>Trace <input id="logs-traceId" class="mono" value="${esc(p.traceId)}"></label>` : ""}
      <button id="logs-apply" class="primary">Filter</button>
      <span class="muted">${logs.length} records (newest first)</span>
    </div>
    <table id="logs"><thead><tr><th>Time</th><th>Level</th><th>Resource</th><th>Category</th><th>Message</th><th>Trace</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="6" class="muted">No log records match.</td></tr>`}</tbody></table>`;
  bindFilters("logs", ["resource", "level", "text", "traceId"]);
};

// ---------- traces ----------
views.traces = async (route, fresh) => {
  const p = route.params;
  const started = performance.now();
  const list = await api("/api/traces" + qs({ resource: p.resource, name: p.name, attr: p.attr, minMs: p.minMs, maxMs: p.maxMs, limit: p.limit || 500 }));
  const sources = await sourceOptions(p.resource);
  const traces = list.traces;
  const picked = state.picked || (state.picked = new Set());
  const rowHtml = t => `<tr class="clickable" data-trace="${t.traceId}">
      <td><input type="checkbox" class="pick" value="${t.traceId}" ${picked.has(t.traceId) ? "checked" : ""}></td>
      <td class="mono muted">${fmtTime(t.startUnixMs)}</td>
      <td>${esc(t.rootName)}</td>
      <td>${t.peers.slice(0, 12).map(n => `<i class="swatch" style="background:${peerColor(n)}" title="${esc(n)}"></i>`).join("")} ${t.peers.length}</td>
      <td>${t.spanCount}</td>
      <td>${fmtMs(t.durationMs)}</td>
      <td>${t.errorCount ? `<span class="badge bad">${t.errorCount}</span>` : ""}</td>
      <td class="mono">${t.blockHeight ?? ""}</td>
      <td class="mono">${t.blockHash ? `<a href="#/compare/${t.traceId}" title="Peer comparison">${esc(short(t.blockHash, 14))}</a>` : ""}</td>
      <td class="mono muted">${t.traceId.slice(0, 12)}</td>
    </tr>`;
  main.innerHTML = `<h2>Traces</h2>
    <div class="toolbar">
      <label>Resource <select id="traces-resource">${sources}</select></label>
      <label>Span name <input id="traces-name" value="${esc(p.name || "")}" placeholder="block.receive"></label>
      <label>Attribute <input id="traces-attr" value="${esc(p.attr || "")}" placeholder="key=value"></label>
      <label>Duration ≥ <input id="traces-minMs" size="6" value="${esc(p.minMs || "")}"> ms</label>
      <label>≤ <input id="traces-maxMs" size="6" value="${esc(p.maxMs || "")}"> ms</label>
      <label>Show <select id="traces-limit">${[100, 500, 2000, 10000].map(n => `<option ${String(n) === String(p.limit || 500) ? "selected" : ""}>${n}</option>`).join("")}</select></label>
      <button id="traces-apply" class="primary">Filter</button>
      <button id="traces-export">Export selected as OTLP JSON</button>
      <span class="muted" id="traces-count">${traces.length} shown of ${list.matched} matching (${list.stored} stored)</span>
    </div>
    <div class="vscroll" id="traces-scroll"><table id="traces"><thead><tr><th><input type="checkbox" id="pick-all"></th><th>Start</th><th>Root span</th><th>Peers</th><th>Spans</th><th>Duration</th><th>Errors</th><th>Height</th><th>Block</th><th>Trace id</th></tr></thead>
    <tbody></tbody></table></div>`;
  // Only the rows in view are in the DOM (spacers stand for the rest), so 10,000 traces render as fast as 50.
  const scroller = document.getElementById("traces-scroll");
  const tbody = main.querySelector("#traces tbody");
  const spacer = h => h > 0 ? `<tr class="spacer"><td colspan="10" style="height:${h}px"></td></tr>` : "";
  const draw = () => {
    if (!traces.length) { tbody.innerHTML = `<tr><td colspan="10" class="muted">No traces match.</td></tr>`; return; }
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 10);
    const last = Math.min(traces.length, first + Math.ceil((scroller.clientHeight || 800) / ROW_HEIGHT) + 20);
    tbody.innerHTML = spacer(first * ROW_HEIGHT) + traces.slice(first, last).map(rowHtml).join("") + spacer((traces.length - last) * ROW_HEIGHT);
  };
  let pending = false;
  scroller.addEventListener("scroll", () => {
    state.tracesScroll = scroller.scrollTop;
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); }
  });
  if (!fresh && state.tracesScroll) scroller.scrollTop = state.tracesScroll; else state.tracesScroll = 0;
  draw();
  bindFilters("traces", ["resource", "name", "attr", "minMs", "maxMs", "limit"]);
  tbody.addEventListener("click", e => {
    if (e.target.closest("a")) return;
    const box = e.target.closest("input.pick");
    if (box) { if (box.checked) picked.add(box.value); else picked.delete(box.value); return; }
    const row = e.target.closest("tr[data-trace]");
    if (row) location.hash = "#/trace/" + row.dataset.trace;
  });
  document.getElementById("pick-all").addEventListener("change", e => {
    traces.forEach(t => e.target.checked ? picked.add(t.traceId) : picked.delete(t.traceId));
    draw();
  });
  document.getElementById("traces-export").addEventListener("click", () => {
    const ids = [...picked].slice(0, 1000);
    if (!ids.length) { toast("Select traces to export first.", true); return; }
    exportTraces(ids);
  });
  window.dashboard.traceListRows = traces.length;
  void tbody.getBoundingClientRect().height; // force style and layout, so the figure includes them
  window.dashboard.traceListRenderMs = performance.now() - started;
};
async function exportTraces(ids) {
  try {
    const response = await fetch("/api/export?traceIds=" + ids.join(","));
    if (!response.ok) throw new Error((await response.json()).error);
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = ids.length === 1 ? `trace-${ids[0]}.otlp.json` : `traces-${ids.length}.otlp.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 5000);
    toast(`Exported ${ids.length} trace(s) as OTLP JSON.`);
  } catch (e) {
    toast("Export failed: " + e.message, true);
  }
}

// ---------- trace waterfall ----------
views.trace = async (route, fresh) => {
  const detail = await api("/api/traces/" + route.id);
  const spans = detail.spans;
  const byId = new Map(spans.map(s => [s.spanId, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId)) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else {
      roots.push(s);
    }
  }
  const ordered = [];
  const visit = (s, depth) => {
    ordered.push({ span: s, depth });
    (children.get(s.spanId) || []).sort((a, b) => a.startUnixNano - b.startUnixNano).forEach(c => visit(c, depth + 1));
  };
  roots.sort((a, b) => a.startUnixNano - b.startUnixNano).forEach(r => visit(r, 0));

  const faults = detail.faults || [];
  const start = Math.min(...spans.map(s => s.startUnixNano / 1e6), ...faults.map(f => f.startUnixMs));
  const end = Math.max(...spans.map(s => s.endUnixNano / 1e6), ...faults.map(f => f.startUnixMs + f.durationMs));
  const total = Math.max(end - start, 0.001);
  const pct = ms => ((ms - start) / total * 100).toFixed(3) + "%";
  const width = ms => Math.max(ms / total * 100, 0.15).toFixed(3) + "%";
  const peers = [...new Set(spans.map(s => s.peer))].sort(naturalCompare);
  assignPeerColors(peers);
  const selected = route.params.span || (state.selectedSpan && byId.has(state.selectedSpan) ? state.selectedSpan : ordered[0]?.span.spanId);
  state.selectedSpan = selected;

  const ticks = niceTicks(total, 6).map(t => `<span style="left:${(t / total * 100).toFixed(2)}%">${fmtMs(t)}</span>`).join("");
  const faultBands = faults.map(f => `<div class="fault-band" style="left:${pct(f.startUnixMs)};width:${width(f.durationMs)}"></div>`).join("");
  const faultRows = faults.map(f => `<div class="wf-row fault-row" title="chaos.fault ${esc(f.kind)}">
      <div class="wf-name">⚡ chaos.fault ${esc(f.kind)} <span class="muted">${esc(f.targets || "")}</span></div>
      <div class="wf-lane"><div class="fault-bar" style="left:${pct(f.startUnixMs)};width:${width(f.durationMs)}"></div></div></div>`).join("");
  const rows = ordered.map(({ span: s, depth }) => {
    const offset = s.startUnixNano / 1e6;
    return `<div class="wf-row ${s.spanId === selected ? "selected" : ""}" data-span="${s.spanId}">
      <div class="wf-name" style="padding-left:${6 + depth * 14}px" title="${esc(s.name)} (${esc(s.peer)})"><i class="swatch" style="background:${peerColor(s.peer)}"></i>${esc(s.name)} <span class="muted">${esc(s.peer)}</span></div>
      <div class="wf-lane">${faultBands}<div class="wf-bar ${s.status === "Error" ? "error" : ""}" style="left:${pct(offset)};width:${width(s.durationMs)};background:${peerColor(s.peer)}"></div>
        <span class="wf-label" style="left:calc(${pct(offset)} + ${width(s.durationMs)} + 4px)">${fmtMs(s.durationMs)}</span></div>
    </div>`;
  }).join("");
  const hasBlock = spans.some(s => s.attributes.some(a => a.key === "block.hash"));
  main.innerHTML = `<h2>Trace <span class="mono">${esc(detail.traceId)}</span></h2>
    <div class="toolbar">
      <a href="#/traces">← all traces</a>
      <span class="muted">${spans.length} spans · ${peers.length} peers · ${fmtMs(total)}</span>
      ${hasBlock ? `<a href="#/compare/${detail.traceId}"><button class="primary" id="open-compare">Peer comparison</button></a>` : ""}
      <button id="trace-export">Export OTLP JSON</button>
      ${detail.logCount ? `<a href="#/logs?traceId=${detail.traceId}">${detail.logCount} log records</a>` : ""}
    </div>
    ${legend(peers)}
    <div class="split">
      <div class="waterfall" id="waterfall">
        <div class="axis"><div class="muted" style="padding:2px 6px">Span (peer)</div><div class="ticks">${ticks}</div></div>
        ${faultRows}${rows}
      </div>
      <div class="panel" id="span-detail"></div>
    </div>`;
  const showDetail = id => {
    const s = byId.get(id);
    state.selectedSpan = id;
    main.querySelectorAll(".wf-row[data-span]").forEach(r => r.classList.toggle("selected", r.dataset.span === id));
    if (!s) return;
    document.getElementById("span-detail").innerHTML = spanDetail(s, start);
  };
  main.querySelector("#waterfall").addEventListener("click", e => {
    const row = e.target.closest(".wf-row[data-span]");
    if (row) showDetail(row.dataset.span);
  });
  document.getElementById("trace-export").addEventListener("click", () => exportTraces([detail.traceId]));
  showDetail(selected);
};
function spanDetail(s, traceStartMs) {
  const kv = rows => `<table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join("")}</table>`;
  const attrs = list => list.length ? kv(list.map(a => [a.key, esc(a.value)])) : `<div class="muted">none</div>`;
  return `<h3 style="margin-top:0">${esc(s.name)}</h3>
    ${kv([
      ["peer", `<i class="swatch" style="background:${peerColor(s.peer)}"></i>${esc(s.peer)}`],
      ["resource", esc(s.source) + (s.serviceName !== s.source ? ` <span class="muted">(${esc(s.serviceName)})</span>` : "")],
      ["scope", esc(s.scope)], ["kind", esc(s.kind)],
      ["status", `<span class="badge ${s.status === "Error" ? "bad" : s.status === "Ok" ? "ok" : ""}">${esc(s.status)}</span> ${esc(s.statusMessage || "")}`],
      ["start", `${fmtNanos(s.startUnixNano)} (+${fmtMs(s.startUnixNano / 1e6 - traceStartMs)})`], ["duration", fmtMs(s.durationMs)],
      ["span id", `<span class="mono">${s.spanId}</span>`], ["parent", `<span class="mono">${s.parentSpanId || "(root)"}</span>`],
    ])}
    <h3>Attributes</h3>${attrs(s.attributes)}
    <h3>Events (${s.events.length})</h3>${s.events.map(e => `<div><b>${esc(e.name)}</b> <span class="muted">${fmtNanos(e.timeUnixNano)}</span>${attrs(e.attributes)}</div>`).join("") || `<div class="muted">none</div>`}
    <h3>Links (${s.links.length})</h3>${s.links.map(l => `<div class="mono"><a href="#/trace/${l.traceId}?span=${l.spanId}">${short(l.traceId, 12)} / ${l.spanId}</a>${attrs(l.attributes)}</div>`).join("") || `<div class="muted">none</div>`}`;
}

// ---------- peer comparison ----------
views.compare = async route => {
  if (!route.id) {
    const blocks = await api("/api/blocks?limit=300");
    const rows = blocks.map(b => `<tr class="clickable" data-trace="${b.traceId}">
        <td class="mono">${esc(b.height ?? "")}</td><td class="mono">${esc(short(b.blockHash, 18))}</td>
        <td>${b.miner ? `<i class="swatch" style="background:${peerColor(b.miner)}"></i>${esc(b.miner)}` : ""}</td>
        <td class="mono muted">${fmtTime(b.startUnixMs)}</td><td>${b.peerCount}</td>
        <td>${b.divergentPeers ? `<span class="badge bad">${b.divergentPeers} diverged</span>` : `<span class="badge ok">agree</span>`}</td>
        <td>${b.outliers ? `<span class="badge warn">${b.outliers}</span>` : ""}</td>
        <td>${b.problems ? `<span class="badge bad">${b.problems}</span>` : ""}</td></tr>`).join("");
    main.innerHTML = `<h2>Peer comparison</h2>
      <div class="muted" style="margin-bottom:10px">Each block's trace, one row per peer: receive → download → verify → replay, state roots after replay compared.</div>
      <table id="blocks"><thead><tr><th>Height</th><th>Block hash</th><th>Miner</th><th>Start</th><th>Peers</th><th>State roots</th><th>Outliers</th><th>Problems</th></tr></thead>
      <tbody>${rows || `<tr><td colspan="8" class="muted">No spans with a block.hash yet.</td></tr>`}</tbody></table>`;
    main.querySelector("#blocks tbody").addEventListener("click", e => {
      const row = e.target.closest("tr[data-trace]");
      if (row) location.hash = "#/compare/" + row.dataset.trace;
    });
    return;
  }
  const blocks = await api("/api/blocks/" + route.id);
  main.innerHTML = `<h2>Peer comparison</h2>
    <div class="toolbar"><a href="#/compare">← all blocks</a><a href="#/trace/${route.id}">open the trace's waterfall</a></div>
    <div class="legend">${Object.entries(STAGE_COLORS).map(([n, c]) => `<span><i class="swatch" style="background:${c}"></i>${n}</span>`).join("")}
      <span><i class="swatch" style="outline:2px solid var(--warn)"></i>outlier</span><span><i class="swatch" style="outline:2px solid var(--bad)"></i>failed</span>
      <span><i class="swatch" style="background:var(--fault);border:1px dashed var(--bad)"></i>chaos fault</span></div>
    ${blocks.map(comparisonBlock).join("")}`;
};
function comparisonBlock(b) {
  const total = Math.max(b.durationMs, 0.001);
  const pct = ms => Math.max(0, Math.min(100, ms / total * 100)).toFixed(3) + "%";
  const faults = b.faults.map(f => {
    const left = Math.max(0, (f.startUnixMs - b.startUnixMs) / total * 100);
    const right = Math.min(100, (f.startUnixMs + f.durationMs - b.startUnixMs) / total * 100);
    return `<div class="fault-band" title="chaos.fault ${esc(f.kind)} ${esc(f.targets || "")}" style="left:${left.toFixed(3)}%;width:${Math.max(right - left, 0.3).toFixed(3)}%"></div>`;
  }).join("");
  const rows = b.peers.map(p => {
    const flagged = p.diverged || p.outlier || p.problems.length;
    const stages = p.stages.map(s => `<div class="stage ${s.outlier ? "outlier" : ""} ${s.failed ? "failed" : ""}"
        title="${esc(p.peer)} ${esc(s.name)}: ${fmtMs(s.durationMs)} at +${fmtMs(s.startOffsetMs)}${s.result ? " result=" + esc(s.result) : ""}${s.outlier ? " (outlier)" : ""}"
        style="left:${pct(s.startOffsetMs)};width:${Math.max(s.durationMs / total * 100, 0.3).toFixed(3)}%;background:${STAGE_COLORS[s.name] || "#565f89"}"></div>`).join("");
    return `<div class="peer ${flagged ? "flagged" : ""}"><i class="swatch" style="background:${peerColor(p.peer)}"></i>${esc(p.peer)}
        ${p.pipelineMs != null ? `<div class="muted">${fmtMs(p.pipelineMs)}${p.outlier ? " ⚠" : ""}</div>` : ""}</div>
      <div class="lane">${faults}${stages}</div>
      <div class="mono ${p.diverged ? "diverged" : ""}" title="${esc(p.stateRoot || "")}">${p.stateRoot ? esc(short(p.stateRoot, 20)) : `<span class="muted">no replay</span>`}
        ${p.problems.length ? `<div class="problems">${p.problems.map(esc).join("<br>")}</div>` : ""}</div>`;
  }).join("");
  return `<div class="cmp-block" data-block="${esc(b.blockHash)}">
    <div class="cmp-head"><b>Block ${esc(b.height ?? "?")}</b><span class="mono">${esc(b.blockHash)}</span>
      <span>miner: ${esc(b.miner || "?")}</span><span>${b.peers.length} peers · ${fmtMs(b.durationMs)}</span>
      ${b.divergentPeers ? `<span class="badge bad">${b.divergentPeers} state root(s) diverge</span>` : `<span class="badge ok">state roots agree</span>`}
      ${b.outliers ? `<span class="badge warn">${b.outliers} outlier peer(s)</span>` : ""}
      ${b.faults.length ? `<span class="badge bad">${b.faults.length} chaos fault(s)</span>` : ""}</div>
    <div class="cmp-grid"><div class="muted">Peer</div><div class="muted">receive → download → verify → replay (0 – ${fmtMs(total)})</div><div class="muted">State root after replay</div>${rows}</div>
    <div class="muted" style="margin-top:6px">Majority state root: <span class="mono">${esc(b.majorityStateRoot || "none")}</span></div></div>`;
}

// ---------- charts ----------
function lineChart(title, series, options = {}) {
  // series: [{ name, color, points: [[x, y], ...] }]; x in Unix ms.
  const all = series.flatMap(s => s.points);
  if (!all.length) return `<div class="chart"><b>${esc(title)}</b><div class="muted">no data</div></div>`;
  const W = 1000, H = 260, L = 60, R = 12, T = 14, B = 26;
  let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
  if (options.marks) for (const m of options.marks) { x0 = Math.min(x0, m.x); x1 = Math.max(x1, m.x + (m.w || 0)); }
  if (x1 - x0 < 1) x1 = x0 + 1;
  let y0 = Math.min(0, ...all.map(p => p[1])), y1 = Math.max(...all.map(p => p[1]));
  if (y1 - y0 < 1e-9) y1 = y0 + 1;
  const sx = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = y => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  const yTicks = niceTicks(y1 - y0, 4).map(t => t + y0);
  const grid = yTicks.map(t => `<line x1="${L}" x2="${W - R}" y1="${sy(t)}" y2="${sy(t)}" stroke="#2e3340"/><text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end">${fmtNumber(t)}</text>`).join("");
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map(f => x0 + f * (x1 - x0)).map(x => `<text x="${sx(x)}" y="${H - 8}" text-anchor="middle">${x1 - x0 < 10_000 ? fmtTime(x) : new Date(x).toLocaleTimeString([], { hour12: false })}</text>`).join(""); // milliseconds when the span is short (one block: all within a second)
  const marks = (options.marks || []).map(m => m.w
    ? `<rect x="${sx(m.x)}" y="${T}" width="${Math.max(sx(m.x + m.w) - sx(m.x), 2)}" height="${H - T - B}" fill="rgba(247,118,142,0.18)" stroke="#f7768e" stroke-dasharray="3 2"><title>${esc(m.label)}</title></rect>`
    : `<line x1="${sx(m.x)}" x2="${sx(m.x)}" y1="${T}" y2="${H - B}" stroke="${m.color || "#f7768e"}" stroke-width="1.5"/><path d="M${sx(m.x) - 5},${T} L${sx(m.x) + 5},${T} L${sx(m.x)},${T + 8} Z" fill="${m.color || "#f7768e"}"><title>${esc(m.label)}</title></path>`).join("");
  const lines = series.map(s => {
    const pts = s.points.slice().sort((a, b) => a[0] - b[0]);
    const d = options.step
      ? pts.map((p, i) => (i === 0 ? `M${sx(p[0])},${sy(p[1])}` : `H${sx(p[0])} V${sy(p[1])}`)).join(" ")
      : pts.map((p, i) => `${i === 0 ? "M" : "L"}${sx(p[0])},${sy(p[1])}`).join(" ");
    const dots = pts.length <= 200 ? pts.map(p => `<circle cx="${sx(p[0])}" cy="${sy(p[1])}" r="2.2" fill="${s.color}"><title>${esc(s.name)}: ${fmtNumber(p[1])} at ${fmtTime(p[0])}</title></circle>`).join("") : "";
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>${dots}`;
  }).join("");
  return `<div class="chart" data-chart="${esc(title)}"><b>${esc(title)}</b>${options.unit ? ` <span class="muted">(${esc(options.unit)})</span>` : ""}
    ${legend(series.map(s => s.name))}
    <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none">${grid}${xTicks}${marks}${lines}</svg></div>`;
}
function fmtNumber(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

// ---------- chain ----------
views.chain = async () => {
  const chain = await api("/api/chain");
  assignPeerColors(chain.peers.map(p => p.peer));
  const marks = chain.reorgs.map(r => ({ x: r.timeUnixMs, label: `chain.reorg on ${r.peer}: depth ${r.depth ?? "?"} ${short(r.oldTip)} → ${short(r.newTip)}` }))
    .concat(chain.faults.map(f => ({ x: f.startUnixMs, w: Math.max(f.durationMs, 1), label: `chaos.fault ${f.kind} ${f.targets || ""}` })));
  const series = chain.peers.map(p => ({ name: p.peer, color: peerColor(p.peer), points: p.points.map(pt => [pt.timeUnixMs, pt.height]) }));
  const tipHashes = chain.peers.map(p => p.tipHash).filter(Boolean);
  const tipCounts = tipHashes.reduce((m, h) => m.set(h, (m.get(h) || 0) + 1), new Map());
  const majority = [...tipCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const maxHeight = Math.max(...chain.peers.map(p => p.tipHeight ?? 0), 0);
  const tips = chain.peers.map(p => `<tr><td><i class="swatch" style="background:${peerColor(p.peer)}"></i>${esc(p.peer)}</td>
      <td class="mono">${p.tipHeight ?? ""}${p.tipHeight != null && p.tipHeight < maxHeight ? ` <span class="badge warn">behind ${maxHeight - p.tipHeight}</span>` : ""}</td>
      <td class="mono ${p.tipHash && majority && p.tipHash !== majority ? "error-text" : ""}">${esc(p.tipHash || "")}</td><td>${p.points.length}</td></tr>`).join("");
  main.innerHTML = `<h2>Chain</h2>
    ${lineChart("Height per peer over time (▼ reorg, shaded: chaos fault)", series, { step: true, marks })}
    <div class="grid-charts">
      <div><h3>Tips</h3><table id="tips"><thead><tr><th>Peer</th><th>Height</th><th>Tip hash</th><th>Points</th></tr></thead><tbody>${tips || `<tr><td colspan="4" class="muted">No block.mine or vm.replay spans with block.height yet.</td></tr>`}</tbody></table></div>
      <div><h3>Reorganisations (${chain.reorgs.length})</h3><table id="reorgs"><thead><tr><th>Time</th><th>Peer</th><th>Depth</th><th>Old tip → new tip</th></tr></thead><tbody>
        ${chain.reorgs.map(r => `<tr><td class="mono muted">${fmtTime(r.timeUnixMs)}</td><td>${esc(r.peer)}</td><td>${esc(r.depth ?? "")}</td><td class="mono"><a href="#/trace/${r.traceId}">${esc(short(r.oldTip))} → ${esc(short(r.newTip))}</a></td></tr>`).join("") || `<tr><td colspan="4" class="muted">none</td></tr>`}</tbody></table>
        <h3>Forks (heights with different blocks)</h3><table><tbody>${chain.forks.map(f => `<tr><td class="mono">${f.height}</td><td class="mono">${f.hashes.map(h => esc(short(h, 16))).join(" · ")}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table>
        <h3>Chaos faults (${chain.faults.length})</h3><table><tbody>${chain.faults.map(f => `<tr><td class="mono muted">${fmtTime(f.startUnixMs)}</td><td>${esc(f.kind)}</td><td>${esc(f.targets || "")}</td><td>${fmtMs(f.durationMs)}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table></div>
    </div>`;
};

// ---------- metrics ----------
// The peers' key instruments (Testbed.Peer's PeerMetrics and the torrent library's byte counters), charted per peer.
const KEY_METRICS = ["testbed.miner.hash_rate", "testbed.chain.height", "torrent.bytes.up", "torrent.bytes.down", "testbed.peers.connected"];
views.metrics = async route => {
  const catalog = await api("/api/metrics");
  let chosen = route.params.name ? [route.params.name] : KEY_METRICS.filter(name => catalog.some(m => m.name === name));
  // Before any key metric arrives, show the first few metrics there are rather than an empty page.
  if (!route.params.name && !chosen.length) chosen = catalog.slice(0, 4).map(m => m.name);
  const charts = [];
  for (const name of chosen) {
    const series = await api("/api/metrics/series?name=" + encodeURIComponent(name));
    const meta = catalog.find(m => m.name === name);
    charts.push(lineChart(name, series.map(s => ({
      name: s.peer + (s.attributes.length ? " " + s.attributes.filter(a => a.key !== "testbed.peer").map(a => `${a.key}=${a.value}`).join(",") : ""),
      color: peerColor(s.peer), points: s.points.map(p => [p.timeUnixMs, p.value]),
    })), { unit: meta && meta.unit }));
  }
  main.innerHTML = `<h2>Metrics</h2>
    <div class="toolbar"><label>Metric <select id="metric-name"><option value="">(key metrics: hash rate, height, bytes, peers)</option>
      ${catalog.map(m => `<option ${m.name === route.params.name ? "selected" : ""} value="${esc(m.name)}">${esc(m.name)} (${esc(m.kind)}${m.unit ? ", " + esc(m.unit) : ""})</option>`).join("")}</select></label>
      <span class="muted">${catalog.length} metrics</span></div>
    <div class="grid-charts">${charts.join("") || `<div class="empty">No ${route.params.name ? "data for this metric" : "key metrics (hash rate, height, bytes up/down, connected peers) received yet"}.</div>`}</div>`;
  document.getElementById("metric-name").addEventListener("change", e => location.hash = "#/metrics" + qs({ name: e.target.value }));
};

render(true).then(() => { state.timer = setInterval(poll, POLL_MS); poll(); });
