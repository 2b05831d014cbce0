// Coverage map: areas and cells coloured by coverage, drill-down district → township → community → cell →
// households, a round selector, a legend and a numbers panel. Every figure comes from the API
// (/api/v1/coverage/geojson, /api/v1/coverage/households); no web tiles unless a base map is configured.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("coverage-config").textContent);
  const el = document.getElementById("map");
  const statusEl = document.getElementById("status");
  const select = document.getElementById("round-select");
  const colours = new Map(config.legend.map((c) => [c.class, c.colour]));
  const LEVEL_NAMES = { city: "市", district: "区县", township: "街道", community: "社区/村", cell: "网格" };
  const STATE_NAMES = { not_reached: "未见面", reached: "已见面", excluded: "不计入" };
  const STATE_COLOURS = { not_reached: "#d73027", reached: "#1a9850", excluded: "#969696" };
  const FIGURES = [
    ["to_visit", "应访户数", "to visit"], ["attempted", "已走访", "attempted"], ["reached", "见面户数", "reached"],
    ["nobody_home", "无人在家", "nobody home"], ["refused", "拒访", "refused"], ["excluded", "空置/搬离", "excluded"],
    ["app_installs", "安装反诈APP", "app installs"], ["visits", "走访次数", "visits"],
    ["flagged_visits", "GPS异常走访", "GPS-flagged"],
  ];
  const gcj = config.tile_crs === "gcj02" && config.tile_url;
  const map = L.map(el, { zoomSnap: 0.25 });
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19 }).addTo(map);
  }
  map.setView([32.3, 118.3], 9);
  let areaLayer = null;
  let householdLayer = null;
  let crumbs = [{ level: config.start.level, area: config.start.area, name: config.start.name }];
  let selectedCell = null;

  function say(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? "error" : "";
  }
  function pct(v) {
    return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
  }
  function scope() {
    const [kind, id] = select.value.split(":");
    return { kind, id, param: `${kind}=${encodeURIComponent(id)}` };
  }
  function here() {
    return crumbs[crumbs.length - 1];
  }
  async function getJson(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { "Accept-Language": "zh-hans" } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const detail = body.errors ? Object.values(body.errors).flat().join("；") : body.detail;
      throw new Error(detail || `HTTP ${r.status}`);
    }
    return body;
  }

  function fillRounds() {
    let chosen = "";
    for (const c of config.campaigns) {
      const group = document.createElement("optgroup");
      group.label = c.name;
      for (const r of c.rounds) {
        const o = new Option(`第${r.number}轮（${r.status_label}）`, `round:${r.id}`);
        group.appendChild(o);
        if (String(r.id) === String(config.round)) chosen = o.value;
        if (!chosen && r.status === "open") chosen = o.value;
      }
      group.appendChild(new Option("整个行动 whole campaign", `campaign:${c.id}`));
      select.appendChild(group);
    }
    if (!config.campaigns.length) {
      say("您的辖区内没有敲门行动 / no campaign in your territory", true);
      return false;
    }
    if (!chosen) {
      const rounds = config.campaigns[0].rounds;
      chosen = rounds.length ? `round:${rounds[rounds.length - 1].id}` : `campaign:${config.campaigns[0].id}`;
    }
    select.value = chosen;
    return true;
  }

  function renderCrumbs() {
    const nav = document.getElementById("crumbs");
    nav.replaceChildren();
    crumbs.forEach((c, i) => {
      if (i) nav.append(" › ");
      const a = document.createElement("a");
      a.href = "#";
      a.textContent = c.name;
      a.addEventListener("click", (e) => {
        e.preventDefault();
        crumbs = crumbs.slice(0, i + 1);
        load();
      });
      nav.append(a);
    });
  }

  function renderFigures(title, f) {
    document.getElementById("panel").scrollTop = 0;
    document.getElementById("panel-title").textContent = title;
    const dl = document.getElementById("figures");
    dl.replaceChildren();
    const add = (label, value, id) => {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      if (id) dd.id = id;
      dl.append(dt, dd);
    };
    add("覆盖率 Coverage", pct(f.coverage), "figure-coverage");
    for (const [key, zh, en] of FIGURES) add(`${zh} ${en}`, (f[key] ?? 0).toLocaleString("zh-CN"), `figure-${key}`);
    const tbody = document.querySelector("#key-groups tbody");
    tbody.replaceChildren();
    for (const g of Object.values(f.key_groups || {})) {
      const tr = tbody.insertRow();
      tr.insertCell().textContent = g.name;
      tr.insertCell().textContent = `${g.reached} / ${g.residents}`;
      tr.insertCell().textContent = pct(g.coverage);
    }
    const s = scope();
    const area = f.code || here().area;
    const report = new URLSearchParams();
    if (area) report.set("area", area);
    if (s.kind === "round") report.set("round", s.id);
    document.getElementById("report-link").href = `/reports/?${report}`;
    const xlsx = document.getElementById("xlsx-link");
    xlsx.hidden = s.kind !== "round";
    xlsx.href = `/api/v1/coverage/households.xlsx?round=${s.id}&state=not_reached${area ? `&area=${area}` : ""}`;
  }

  function renderRows(features, level) {
    document.getElementById("rows-title").firstChild.textContent = `${LEVEL_NAMES[level] || ""} `;
    const tbody = document.querySelector("#rows tbody");
    tbody.replaceChildren();
    for (const f of features) {
      const p = f.properties;
      const tr = tbody.insertRow();
      const a = document.createElement("a");
      a.href = "#";
      a.textContent = `${p.name}`;
      a.addEventListener("click", (e) => {
        e.preventDefault();
        choose(f);
      });
      tr.insertCell().append(a);
      tr.insertCell().textContent = p.to_visit.toLocaleString("zh-CN");
      tr.insertCell().textContent = p.reached.toLocaleString("zh-CN");
      const td = tr.insertCell();
      td.textContent = pct(p.coverage);
      td.style.borderLeft = `6px solid ${colours.get(p.coverage_class)}`;
    }
  }

  function choose(feature) {
    const p = feature.properties;
    if (p.level === "cell") {
      selectCell(feature);
    } else {
      crumbs.push({ level: config.next_level[p.level], area: p.code, name: p.name });
      load();
    }
  }

  function style(feature) {
    const selected = selectedCell && feature.properties.code === selectedCell;
    return {
      color: selected ? "#000" : "#444", weight: selected ? 3 : 1, fillOpacity: 0.7,
      fillColor: colours.get(feature.properties.coverage_class) || "#d9d9d9",
    };
  }

  async function selectCell(feature) {
    const p = feature.properties;
    selectedCell = p.code;
    if (areaLayer) areaLayer.setStyle(style);
    renderFigures(`网格 ${p.name}（${p.code}）`, p);
    el.dataset.selected = p.code;
    const box = document.getElementById("households");
    const s = scope();
    if (householdLayer) householdLayer.remove();
    if (s.kind !== "round") {
      box.hidden = true;
      say("住户清单按轮次查看，请选择一个轮次 / pick a round to see the households");
      return;
    }
    say("正在加载住户… loading households");
    try {
      const data = await getJson(`/api/v1/coverage/households?round=${s.id}&area=${p.code}&state=all&limit=2000`);
      const rows = data.results.slice().sort((a, b) => (a.state === "not_reached" ? 0 : 1) -
        (b.state === "not_reached" ? 0 : 1));
      householdLayer = L.layerGroup(rows.map((h) => {
        const ll = gcj ? window.QiaomenGcj02.fromWgs84(h.lon, h.lat) : [h.lon, h.lat];
        return L.circleMarker([ll[1], ll[0]], {
          radius: 4, weight: 1, color: "#222", fillOpacity: 0.9, fillColor: STATE_COLOURS[h.state],
          className: `household household-${h.state}`,
        }).bindTooltip(`${h.address} · ${STATE_NAMES[h.state]}${h.outcome_label ? `（${h.outcome_label}）` : ""}`);
      })).addTo(map);
      const tbody = box.querySelector("tbody");
      tbody.replaceChildren();
      for (const h of rows) {
        const tr = tbody.insertRow();
        tr.className = `state-${h.state}`;
        tr.insertCell().textContent = h.address;
        tr.insertCell().textContent = STATE_NAMES[h.state] + (h.outcome_label ? `（${h.outcome_label}）` : "");
        tr.insertCell().textContent = h.visits;
        tr.insertCell().textContent = h.contact;
      }
      const open = rows.filter((h) => h.state === "not_reached").length;
      document.getElementById("households-count").textContent = `未见面 ${open} / 共 ${data.count} 户`;
      box.hidden = false;
      el.dataset.households = String(rows.length);
      say(`网格 ${p.name}：${data.count} 户，未见面 ${open} 户`);
    } catch (err) {
      say(`住户加载失败 / could not load households: ${err.message}`, true);
    }
  }

  async function load() {
    const h = here();
    const s = scope();
    selectedCell = null;
    renderCrumbs();
    document.getElementById("households").hidden = true;
    if (householdLayer) householdLayer.remove();
    say("正在加载… loading");
    el.dataset.state = "loading";
    try {
      const url = `/api/v1/coverage/geojson?${s.param}&level=${h.level}${h.area ? `&area=${encodeURIComponent(h.area)}` : ""}`;
      const data = await getJson(url);
      if (gcj) window.QiaomenGcj02.geojson(data);
      if (areaLayer) areaLayer.remove();
      const drawn = data.features.filter((f) => f.geometry);
      areaLayer = L.geoJSON({ type: "FeatureCollection", features: drawn }, {
        style,
        onEachFeature: (f, layer) => {
          const p = f.properties;
          layer.bindTooltip(`${p.name} · 覆盖率 ${pct(p.coverage)} · 见面 ${p.reached}/${p.to_visit - p.excluded}`);
          layer.on("click", () => choose(f));
        },
      }).addTo(map);
      if (drawn.length) {
        map.invalidateSize();
        map.fitBounds(areaLayer.getBounds(), { padding: [12, 12], animate: false });
        el.dataset.bounds = areaLayer.getBounds().toBBoxString();
      }
      renderFigures(h.name, data.total);
      renderRows(data.features, h.level);
      el.dataset.features = String(drawn.length);
      el.dataset.level = h.level;
      el.dataset.state = "ready";
      say(data.features.length ? `${LEVEL_NAMES[h.level]} ${data.features.length} 个` :
        "此范围内没有应访住户 / nothing to visit here");
    } catch (err) {
      el.dataset.state = "error";
      say(`加载失败 / could not load: ${err.message}`, true);
    }
  }

  const legend = document.querySelector("#legend ul");
  for (const c of config.legend) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = c.colour;
    li.append(sw, c.label);
    legend.append(li);
  }
  select.addEventListener("change", load);
  if (fillRounds()) load();
})();
