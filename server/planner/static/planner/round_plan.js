// Round planning map: cells coloured by team, counts per team, auto-assign and moving a cell.
// Everything comes from the API; no web tiles unless a base map URL is configured.
(function () {
  "use strict";
  const el = document.getElementById("map");
  const roundId = el.dataset.round;
  const api = (p) => `/api/v1/rounds/${roundId}${p}`;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const status = document.getElementById("status");
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];
  const UNASSIGNED = "#ffffff";
  const map = L.map(el, { preferCanvas: false, zoomSnap: 0.25 });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  let layer = null;
  let selected = null;
  const teamColour = new Map();

  function colourFor(f) {
    const p = f.properties;
    const key = p.team ? `team:${p.team}` : (p.worker ? `worker:${p.worker}` : null);
    if (!key) return UNASSIGNED;
    if (!teamColour.has(key)) teamColour.set(key, PALETTE[teamColour.size % PALETTE.length]);
    return teamColour.get(key);
  }

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  async function call(path, body) {
    const r = await fetch(api(path), {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": "zh-hans" },
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.detail_zh ? `${data.detail_zh} / ${data.detail_en}` : (data.detail || r.statusText));
    return data;
  }

  function renderTable(features) {
    const rows = new Map();
    let total = 0, unassigned = 0;
    for (const f of features) {
      const p = f.properties;
      total += p.households;
      const key = p.team ? `team:${p.team}` : (p.worker ? `worker:${p.worker}` : null);
      if (!key) { unassigned += p.households; continue; }
      const row = rows.get(key) || { label: p.team_name || p.worker, cells: 0, households: 0, colour: colourFor(f) };
      row.cells += 1; row.households += p.households;
      rows.set(key, row);
    }
    const tbody = document.querySelector("#team-table tbody");
    tbody.innerHTML = "";
    const loads = [];
    for (const row of [...rows.values()].sort((a, b) => a.label.localeCompare(b.label, "zh"))) {
      loads.push(row.households);
      const tr = document.createElement("tr");
      tr.innerHTML = `<td><span class="swatch"></span></td><td></td>` +
        `<td class="num">${row.cells}</td><td class="num">${row.households}</td>`;
      tr.querySelector(".swatch").style.background = row.colour;  // CSSOM, not a style attribute: allowed by the CSP
      tr.children[1].textContent = row.label;
      tbody.appendChild(tr);
    }
    const balance = loads.length > 1 ? (Math.max(...loads) / Math.max(1, Math.min(...loads))).toFixed(2) : "—";
    document.getElementById("totals").textContent =
      `应访 ${total} 户 · 未分配 ${unassigned} 户 · 最多/最少 ${balance}  (to visit ${total}, unassigned ${unassigned}, max/min ${balance})`;
  }

  function showCell(f) {
    selected = f;
    const p = f.properties;
    document.getElementById("cell-panel").hidden = false;
    document.getElementById("cell-name").textContent = `${p.name}（${f.id}）`;
    document.getElementById("cell-info").textContent =
      `${p.community_name} · 应访 ${p.households} 户 · 负责：${p.team_name || p.worker || "未分配 unassigned"}`;
    document.getElementById("walk-pdf").href = api(`/cells/${f.id}/walk-sheet.pdf`);
    document.getElementById("walk-xlsx").href = api(`/cells/${f.id}/walk-sheet.xlsx`);
    document.querySelector("#move-form select").value = p.team || "";
  }

  async function load(fit) {
    const data = await call("/cells");
    const features = data.features || [];
    if (layer) layer.remove();
    layer = L.geoJSON(data, {
      style: (f) => ({ color: "#333", weight: 1, fillColor: colourFor(f), fillOpacity: f.properties.team || f.properties.worker ? 0.65 : 0.25 }),
      onEachFeature: (f, l) => {
        l.bindTooltip(`${f.properties.name} · ${f.properties.households}户 · ${f.properties.team_name || f.properties.worker || "未分配"}`);
        l.on("click", () => showCell(f));
      },
    }).addTo(map);
    if (fit && features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
    renderTable(features);
    el.dataset.cells = String(features.length);
    return features;
  }

  document.getElementById("auto-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const teams = [...form.querySelectorAll("input[name=team]:checked")].map((i) => Number(i.value));
    say("正在分配… Assigning…");
    try {
      const r = await call("/auto-assign", { teams, keep_manual: form.keep_manual.checked });
      await load(false);
      const b = r.balance === null ? "—" : r.balance.toFixed(2);
      say(`已分配 ${r.cells_assigned} 个网格，均衡度 ${b}  (assigned ${r.cells_assigned} cells, balance ${b})`);
    } catch (e) { say(e.message, true); }
  });

  document.getElementById("move-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!selected) return;
    const form = ev.target;
    say("正在改派… Moving…");
    try {
      await call("/assignments", { cell: selected.id, team: form.team.value ? Number(form.team.value) : null, reason: form.reason.value });
      const features = await load(false);
      const again = features.find((f) => f.id === selected.id);
      if (again) showCell(again);
      say("已改派 Moved");
    } catch (e) { say(e.message, true); }
  });

  load(true).catch((e) => say(e.message, true));
})();
