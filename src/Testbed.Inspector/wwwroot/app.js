// The inspector's UI: plain JavaScript over the JSON API in /api, routed by the page's path (/, /blocks/ID, /chain,
// /peers, /peers/NAME), re-rendered on a 2 s poll when what the inspector holds changes.
"use strict";

const POLL_MS = 2000;
const PALETTE = ["#7aa2f7", "#9ece6a", "#e0af68", "#bb9af7", "#7dcfff", "#ff9e64", "#73daca", "#f7768e",
  "#c0caf5", "#2ac3de", "#b4f9f8", "#ffc777", "#c3e88d", "#fca7ea", "#82aaff", "#d4a373"];
const STAGE_COLORS = {
  "block.produce": "#565f89", "block.mine": "#bb9af7", "block.sign": "#9d7cd8", "block.announce": "#7dcfff", "block.receive": "#7aa2f7",
  "torrent.download": "#e0af68", "block.connect": "#2ac3de", "block.sync": "#b4f9f8", "block.verify.signature": "#9ece6a", "block.verify.pow": "#73daca",
  "block.verify.transactions": "#4fbf7f", "vm.replay": "#ff9e64", "chain.reorg": "#f7768e",
};

const main = document.getElementById("main");
const state = { status: null, version: null, route: "", peers: new Map(), busy: false };
// What the UI last rendered (read by tests and people debugging).
window.inspector = { lastRender: null, view: null };

// ---------- helpers ----------
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
async function api(path) {
  // Marked as a poll (ServiceDefaults' TelemetryPolls): a watching UI makes no traces of its own in the dashboard.
  const response = await fetch(path, { headers: { accept: "application/json", "X-Testbed-Poll": "1" } });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    throw new Error((body && (body.detail || body.title)) || `${response.status} ${response.statusText}`);
  }
  return body;
}
function peerColor(peer) {
  if (!state.peers.has(peer)) state.peers.set(peer, PALETTE[state.peers.size % PALETTE.length]);
  return state.peers.get(peer);
}
function naturalCompare(a, b) {
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
function assignPeerColors(names) {
  [...names].sort(naturalCompare).forEach(peerColor);
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
function fmtAgo(iso) {
  if (!iso) return "never";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return seconds < 90 ? `${seconds.toFixed(0)} s ago` : `${(seconds / 60).toFixed(0)} min ago`;
}
function short(text, n = 12) { text = String(text ?? ""); return text.length > n ? text.slice(0, n) + "…" : text; }
function peerLink(peer) {
  return `<a href="/peers/${encodeURIComponent(peer)}"><i class="swatch" style="background:${peerColor(peer)}"></i>${esc(peer)}</a>`;
}
function traceLink(url, label = "trace in the dashboard") {
  return url ? `<a class="ext" href="${esc(url)}" target="_blank" rel="noopener">${esc(label)}</a>` : "";
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
function banner() {
  const s = state.status;
  return s && !s.reachable && s.error ? `<div class="banner" id="unreachable">${esc(s.error)} — showing the ${s.spansHeld} spans held.</div>` : "";
}

// ---------- routing ----------
function route() {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "blocks" && parts[1]) return { view: "block", id: parts[1] };
  if (parts[0] === "chain") return { view: "chain" };
  if (parts[0] === "peers") return parts[1] ? { view: "peer", id: parts[1] } : { view: "peers" };
  return { view: "blocks" };
}
const views = {};
async function render(fresh) {
  const r = route();
  const key = r.view + "/" + (r.id || "");
  if (key !== state.route) { fresh = true; state.route = key; }
  document.querySelectorAll("#nav a").forEach(a => a.classList.toggle("active",
    a.dataset.view === r.view || (r.view === "block" && a.dataset.view === "blocks") || (r.view === "peer" && a.dataset.view === "peers")));
  if (fresh) main.innerHTML = `<div class="muted">Loading…</div>`;
  try {
    await views[r.view](r);
  } catch (e) {
    main.innerHTML = `${banner()}<div class="empty error-text" id="error">${esc(e.message)}</div>`;
  }
  window.inspector.lastRender = Date.now();
  window.inspector.view = r.view;
}

async function poll() {
  if (state.busy) return;
  state.busy = true;
  try {
    const s = await api("/api/status");
    const changed = !state.status || s.version !== state.version || s.reachable !== state.status.reachable || s.error !== state.status.error;
    state.status = s;
    state.version = s.version;
    const element = document.getElementById("status");
    element.className = "status " + (s.reachable ? "ok" : "bad");
    element.textContent = s.reachable
      ? `${s.dashboardUrl} · ${s.tracesHeld} traces · ${s.spansHeld} spans held · last read ${fmtAgo(s.lastSuccessfulReadUtc)}`
      : (s.error || `connecting to ${s.dashboardUrl}…`) + ` · ${s.spansHeld} spans held`;
    if (changed) await render(false);
  } catch (e) {
    const element = document.getElementById("status");
    element.className = "status bad";
    element.textContent = "inspector unreachable: " + e.message;
  } finally {
    state.busy = false;
  }
}

// ---------- blocks ----------
views.blocks = async () => {
  const blocks = await api("/api/blocks?limit=300");
  assignPeerColors(blocks.map(b => b.miner).filter(Boolean));
  const rows = blocks.map(b => `<tr data-trace="${esc(b.traceId)}">
      <td class="mono">${esc(b.height ?? "")}</td>
      <td class="mono"><a href="/blocks/${esc(b.traceId)}" title="Peer comparison">${esc(short(b.blockHash, 18))}</a></td>
      <td>${b.miner ? peerLink(b.miner) : ""}</td>
      <td class="mono muted">${fmtTime(b.startUnixMs)}</td><td>${b.peerCount}</td>
      <td>${b.divergentPeers ? `<span class="badge bad">${b.divergentPeers} diverged</span>` : `<span class="badge ok">agree</span>`}</td>
      <td>${b.outliers ? `<span class="badge warn">${b.outliers}</span>` : ""}</td>
      <td>${b.problems ? `<span class="badge bad">${b.problems}</span>` : ""}</td>
      <td><a href="/blocks/${esc(b.traceId)}">compare</a> · ${traceLink(b.dashboardTraceUrl, "trace")}</td></tr>`).join("");
  main.innerHTML = `${banner()}<h2>Blocks</h2>
    <div class="muted" style="margin-bottom:10px">Each block's trace (grouped by trace id and block.hash), read back from the Aspire dashboard; open one to compare the peers.</div>
    <table id="blocks"><thead><tr><th>Height</th><th>Block hash</th><th>Miner</th><th>Start</th><th>Peers</th><th>State roots</th><th>Outliers</th><th>Problems</th><th></th></tr></thead>
    <tbody>${rows || `<tr><td colspan="9" class="muted">No spans with a block.hash held yet.</td></tr>`}</tbody></table>`;
};

// ---------- one block: the peer comparison ----------
views.block = async r => {
  const blocks = await api("/api/blocks/" + encodeURIComponent(r.id));
  assignPeerColors(blocks.flatMap(b => b.peers.map(p => p.peer)));
  main.innerHTML = `${banner()}<h2>Peer comparison</h2>
    <div class="toolbar"><a href="/">← all blocks</a>${traceLink(blocks[0] && blocks[0].dashboardTraceUrl, "open this trace in the Aspire dashboard")}</div>
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
    const stages = p.stages.map(s => `<div class="stage ${s.outlier ? "outlier" : ""} ${s.failed ? "failed" : ""}" data-stage="${esc(s.name)}"
        title="${esc(p.peer)} ${esc(s.name)}: ${fmtMs(s.durationMs)} at +${fmtMs(s.startOffsetMs)}${s.result ? " result=" + esc(s.result) : ""}${s.outlier ? " (outlier)" : ""}"
        style="left:${pct(s.startOffsetMs)};width:${Math.max(s.durationMs / total * 100, 0.3).toFixed(3)}%;background:${STAGE_COLORS[s.name] || "#565f89"}"></div>`).join("");
    return `<div class="peer ${flagged ? "flagged" : ""}" data-peer="${esc(p.peer)}">${peerLink(p.peer)}
        ${p.pipelineMs != null ? `<div class="muted">${fmtMs(p.pipelineMs)}${p.outlier ? " ⚠" : ""}</div>` : ""}</div>
      <div class="lane">${faults}${stages}</div>
      <div class="mono ${p.diverged ? "diverged" : ""}" title="${esc(p.stateRoot || "")}">${p.stateRoot ? esc(short(p.stateRoot, 20)) : `<span class="muted">no replay</span>`}
        ${p.problems.length ? `<div class="problems">${p.problems.map(esc).join("<br>")}</div>` : ""}</div>`;
  }).join("");
  const faultList = b.faults.length
    ? `<div class="muted" style="margin-top:6px">Chaos faults overlapping: ${b.faults.map(f => `<span class="badge bad">${esc(f.kind)}</span> ${esc(f.targets || "")} ${esc(f.scenario ? "(" + f.scenario + (f.step != null ? " step " + f.step : "") + ")" : "")} at +${fmtMs(f.startUnixMs - b.startUnixMs)} for ${fmtMs(f.durationMs)}`).join("; ")}</div>`
    : "";
  return `<div class="cmp-block" data-block="${esc(b.blockHash)}">
    <div class="cmp-head"><b>Block ${esc(b.height ?? "?")}</b><span class="mono">${esc(b.blockHash)}</span>
      <span>miner: ${b.miner ? peerLink(b.miner) : "?"}</span><span>${b.peers.length} peers · ${fmtMs(b.durationMs)}</span>
      ${b.divergentPeers ? `<span class="badge bad">${b.divergentPeers} state root(s) diverge</span>` : `<span class="badge ok">state roots agree</span>`}
      ${b.outliers ? `<span class="badge warn">${b.outliers} outlier peer(s)</span>` : ""}
      ${b.faults.length ? `<span class="badge bad">${b.faults.length} chaos fault(s)</span>` : ""}</div>
    <div class="cmp-grid"><div class="muted">Peer</div><div class="muted">produce/mine/sign/announce · receive → download → verify → replay (0 – ${fmtMs(total)})</div><div class="muted">State root after replay</div>${rows}</div>
    <div class="muted" style="margin-top:6px">Majority state root: <span class="mono">${esc(b.majorityStateRoot || "none")}</span></div>${faultList}</div>`;
}

// ---------- chart ----------
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
  const grid = niceTicks(y1 - y0, 4).map(t => t + y0).map(t => `<line x1="${L}" x2="${W - R}" y1="${sy(t)}" y2="${sy(t)}" stroke="#2e3340"/><text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`).join("");
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map(f => [x0 + f * (x1 - x0), f === 0 ? "start" : f === 1 ? "end" : "middle"]).map(([x, anchor]) => `<text x="${sx(x)}" y="${H - 8}" text-anchor="${anchor}">${x1 - x0 < 10_000 ? fmtTime(x) : new Date(x).toLocaleTimeString([], { hour12: false })}</text>`).join("");
  const marks = (options.marks || []).map(m => m.w
    ? `<rect x="${sx(m.x)}" y="${T}" width="${Math.max(sx(m.x + m.w) - sx(m.x), 2)}" height="${H - T - B}" fill="rgba(247,118,142,0.18)" stroke="#f7768e" stroke-dasharray="3 2"><title>${esc(m.label)}</title></rect>`
    : `<line x1="${sx(m.x)}" x2="${sx(m.x)}" y1="${T}" y2="${H - B}" stroke="#f7768e" stroke-width="1.5"/><path d="M${sx(m.x) - 5},${T} L${sx(m.x) + 5},${T} L${sx(m.x)},${T + 8} Z" fill="#f7768e"><title>${esc(m.label)}</title></path>`).join("");
  const lines = series.map(s => {
    const pts = s.points.slice().sort((a, b) => a[0] - b[0]);
    const d = pts.map((p, i) => (i === 0 ? `M${sx(p[0])},${sy(p[1])}` : `H${sx(p[0])} V${sy(p[1])}`)).join(" ");
    const dots = pts.length <= 200 ? pts.map(p => `<circle cx="${sx(p[0])}" cy="${sy(p[1])}" r="2.2" fill="${s.color}"><title>${esc(s.name)}: ${p[1]} at ${fmtTime(p[0])}</title></circle>`).join("") : "";
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>${dots}`;
  }).join("");
  const legend = `<div class="legend">${series.map(s => `<span><i class="swatch" style="background:${s.color}"></i>${esc(s.name)}</span>`).join("")}</div>`;
  return `<div class="chart" data-chart="${esc(title)}"><b>${esc(title)}</b>${legend}
    <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none">${grid}${xTicks}${marks}${lines}</svg></div>`;
}

// ---------- chain ----------
views.chain = async () => {
  const chain = await api("/api/chain");
  assignPeerColors(chain.peers.map(p => p.peer));
  const marks = chain.reorgs.map(r => ({ x: r.timeUnixMs, label: `chain.reorg on ${r.peer}: depth ${r.depth ?? "?"} ${short(r.oldTip)} → ${short(r.newTip)}` }))
    .concat(chain.faults.map(f => ({ x: f.startUnixMs, w: Math.max(f.durationMs, 1), label: `chaos.fault ${f.kind} ${f.targets || ""}` })));
  const series = chain.peers.map(p => ({ name: p.peer, color: peerColor(p.peer), points: p.points.map(pt => [pt.timeUnixMs, pt.height]) }));
  const tipCounts = chain.peers.map(p => p.tipHash).filter(Boolean).reduce((m, h) => m.set(h, (m.get(h) || 0) + 1), new Map());
  const majority = [...tipCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const maxHeight = Math.max(...chain.peers.map(p => p.tipHeight ?? 0), 0);
  const tips = chain.peers.map(p => `<tr data-peer="${esc(p.peer)}"><td>${peerLink(p.peer)}</td>
      <td class="mono">${p.tipHeight ?? ""}${p.tipHeight != null && p.tipHeight < maxHeight ? ` <span class="badge warn">behind ${maxHeight - p.tipHeight}</span>` : ""}</td>
      <td class="mono ${p.tipHash && majority && p.tipHash !== majority ? "error-text" : ""}">${esc(p.tipHash || "")}</td><td>${p.points.length}</td></tr>`).join("");
  main.innerHTML = `${banner()}<h2>Chain</h2>
    ${lineChart("Height per peer over time (▼ reorg, shaded: chaos fault)", series, { marks })}
    <div class="grid-charts">
      <div><h3>Tips</h3><table id="tips"><thead><tr><th>Peer</th><th>Height</th><th>Tip hash</th><th>Points</th></tr></thead><tbody>${tips || `<tr><td colspan="4" class="muted">No block.mine or vm.replay spans with block.height held yet.</td></tr>`}</tbody></table></div>
      <div><h3>Reorganisations (${chain.reorgs.length})</h3><table id="reorgs"><thead><tr><th>Time</th><th>Peer</th><th>Depth</th><th>Old tip → new tip</th></tr></thead><tbody>
        ${chain.reorgs.map(r => `<tr><td class="mono muted">${fmtTime(r.timeUnixMs)}</td><td>${peerLink(r.peer)}</td><td>${esc(r.depth ?? "")}</td><td class="mono">${esc(short(r.oldTip))} → ${esc(short(r.newTip))}</td></tr>`).join("") || `<tr><td colspan="4" class="muted">none</td></tr>`}</tbody></table>
        <h3>Forks (heights with different blocks)</h3><table id="forks"><tbody>${chain.forks.map(f => `<tr><td class="mono">${f.height}</td><td class="mono">${f.hashes.map(h => esc(short(h, 16))).join(" · ")}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table>
        <h3>Chaos faults (${chain.faults.length})</h3><table id="faults"><tbody>${chain.faults.map(f => `<tr><td class="mono muted">${fmtTime(f.startUnixMs)}</td><td>${esc(f.kind)}</td><td>${esc(f.targets || "")}</td><td>${fmtMs(f.durationMs)}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table></div>
    </div>`;
};

// ---------- peers ----------
views.peers = async () => {
  const peers = await api("/api/peers");
  assignPeerColors(peers.map(p => p.peer));
  main.innerHTML = `${banner()}<h2>Peers</h2>
    <table id="peers"><thead><tr><th>Peer</th><th>Spans held</th><th>Failures</th><th>Tip height</th><th>Tip hash</th></tr></thead><tbody>
    ${peers.map(p => `<tr data-peer="${esc(p.peer)}"><td>${peerLink(p.peer)}</td><td>${p.spans}</td><td>${p.failures ? `<span class="badge bad">${p.failures}</span>` : "0"}</td>
      <td class="mono">${p.tipHeight ?? ""}</td><td class="mono">${esc(short(p.tipHash, 18))}</td></tr>`).join("") || `<tr><td colspan="5" class="muted">No peer spans held yet.</td></tr>`}</tbody></table>`;
};
views.peer = async r => {
  const p = await api("/api/peers/" + encodeURIComponent(r.id));
  const blocks = p.blocks.map(b => `<tr data-trace="${esc(b.traceId)}"><td class="mono">${esc(b.height ?? "")}</td>
      <td class="mono"><a href="/blocks/${esc(b.traceId)}">${esc(short(b.blockHash, 18))}</a></td><td>${esc(b.role)}</td>
      <td class="mono muted">${fmtTime(b.startUnixMs)}</td><td>${b.stages.map(esc).join(" → ")}</td>
      <td class="mono ${b.diverged ? "diverged error-text" : ""}">${esc(short(b.stateRoot, 16))}</td><td>${b.pipelineMs != null ? fmtMs(b.pipelineMs) : ""}${b.outlier ? ` <span class="badge warn">outlier</span>` : ""}</td>
      <td class="problems">${b.problems.map(esc).join("<br>")}</td><td>${traceLink(b.dashboardTraceUrl, "trace")}</td></tr>`).join("");
  const failures = p.failures.map(f => `<tr><td class="mono muted">${fmtTime(f.startUnixMs)}</td><td>${esc(f.name)}</td>
      <td>${f.status === "Error" ? `<span class="badge bad">Error</span>` : esc(f.status)} ${esc(f.statusMessage || "")}</td><td>${esc(f.result || "")}</td>
      <td class="mono">${esc(short(f.blockHash, 16))}</td><td>${traceLink(f.dashboardTraceUrl, "trace")}</td></tr>`).join("");
  main.innerHTML = `${banner()}<h2>${peerLink(p.peer)}</h2>
    <div class="cards">
      <div class="card"><span class="muted">tip height</span><b>${p.tipHeight ?? "–"}</b></div>
      <div class="card"><span class="muted">blocks mined</span><b>${p.blocksMined}</b></div>
      <div class="card"><span class="muted">blocks received</span><b>${p.blocksReceived}</b></div>
      <div class="card"><span class="muted">failures</span><b>${p.failures.length}</b></div>
      <div class="card"><span class="muted">spans held</span><b>${p.spans}</b></div>
      <div class="card"><span class="muted">service</span><b class="mono" style="font-size:13px">${p.services.map(esc).join(", ")}</b></div></div>
    <div class="muted">Tip: <span class="mono">${esc(p.tipHash || "none")}</span></div>
    <h3>Blocks (${p.blocks.length})</h3>
    <table id="peer-blocks"><thead><tr><th>Height</th><th>Block hash</th><th>Role</th><th>Start</th><th>Stages</th><th>State root</th><th>Pipeline</th><th>Problems</th><th></th></tr></thead>
    <tbody>${blocks || `<tr><td colspan="9" class="muted">none</td></tr>`}</tbody></table>
    <h3>Failures (${p.failures.length})</h3>
    <table id="peer-failures"><thead><tr><th>Time</th><th>Span</th><th>Status</th><th>Result</th><th>Block</th><th></th></tr></thead>
    <tbody>${failures || `<tr><td colspan="6" class="muted">none</td></tr>`}</tbody></table>
    <h3>Reorganisations (${p.reorgs.length}) and chaos faults aimed at it (${p.faults.length})</h3>
    <table><tbody>${p.reorgs.map(r => `<tr><td class="mono muted">${fmtTime(r.timeUnixMs)}</td><td>chain.reorg depth ${esc(r.depth ?? "?")}</td><td class="mono">${esc(short(r.oldTip))} → ${esc(short(r.newTip))}</td></tr>`).join("")}
      ${p.faults.map(f => `<tr><td class="mono muted">${fmtTime(f.startUnixMs)}</td><td><span class="badge bad">${esc(f.kind)}</span> ${esc(f.targets || "")}</td><td>${fmtMs(f.durationMs)}</td></tr>`).join("") || ""}</tbody></table>`;
};

render(true).then(() => { setInterval(poll, POLL_MS); poll(); });
