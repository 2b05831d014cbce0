// The reports page: request a report through the API, then poll its row until it is done or failed.
(function () {
  "use strict";
  const campaigns = JSON.parse(document.getElementById("campaigns").textContent);
  const selectedRound = String(JSON.parse(document.getElementById("selected-round").textContent) || "");
  const form = document.getElementById("request-form");
  const tbody = document.querySelector("#reports tbody");
  const statusBox = document.getElementById("status");
  const polling = new Set();

  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
  function size(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB"; }
  function when(iso) { const d = new Date(iso); const p = n => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`; }

  function fillCampaigns() {
    const area = form.area.selectedOptions[0];
    const path = area ? area.dataset.path : "";
    const fitting = campaigns.filter(c => c.paths.some(p => path.startsWith(p) || p.startsWith(path)));
    form.campaign.innerHTML = fitting.length ? fitting.map(c => `<option value="${c.id}">${esc(c.name)}</option>`).join("")
      : '<option value="">（该区域没有敲门行动 no campaign here）</option>';
    fillRounds();
  }
  function fillRounds() {
    const c = campaigns.find(c => String(c.id) === form.campaign.value);
    const rounds = c ? c.rounds : [];
    form.round.innerHTML = '<option value="">整个行动 whole campaign</option>' + rounds.map(r =>
      `<option value="${r.id}"${String(r.id) === selectedRound ? " selected" : ""}>第${r.number}轮 Round ${r.number} · ${esc(r.status)}</option>`).join("");
  }

  function rowHtml(r) {
    const state = `<progress max="100" value="${r.progress}"></progress> <span class="step">${esc(r.status_display)}` +
      (r.status === "queued" || r.status === "running" ? ` · ${esc(r.step)} ${r.progress}%` : "") + "</span>" +
      (r.error ? `<div class="error">${esc(r.error)}</div>` : "");
    const dl = r.download_url ? `<a href="${r.download_url}">下载 Download</a> <small>${size(r.size)}</small>` : "";
    return `<td>${when(r.requested_at)}</td><td>${esc(r.title)}<br><small>${esc(r.campaign_name)}</small></td>` +
      `<td>${r.format.toUpperCase()}</td><td>${r.requested_by ? esc(r.requested_by) : "周报 weekly"}</td>` +
      `<td class="state">${state}</td><td class="download">${dl}</td>`;
  }
  function show(r) {
    let tr = tbody.querySelector(`tr[data-id="${r.id}"]`);
    if (!tr) {
      const none = tbody.querySelector("tr.none"); if (none) none.remove();
      tr = document.createElement("tr"); tr.dataset.id = r.id; tbody.prepend(tr);
    }
    tr.dataset.status = r.status;
    tr.innerHTML = rowHtml(r);
    if (r.status === "queued" || r.status === "running") poll(r.id);
  }
  function poll(id) {
    if (polling.has(id)) return;
    polling.add(id);
    setTimeout(async function tick() {
      try {
        const res = await fetch(`/api/v1/reports/${id}`, {headers: {"Accept": "application/json"}});
        if (res.ok) { const r = await res.json(); polling.delete(id); show(r); return; }
      } catch (e) { /* a dropped request: try again */ }
      setTimeout(tick, 2000);
    }, 800);
  }

  if (form) {
    form.area.addEventListener("change", fillCampaigns);
    form.campaign.addEventListener("change", fillRounds);
    fillCampaigns();
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      statusBox.className = ""; statusBox.textContent = "正在提交… Submitting…";
      const body = {area: form.area.value, campaign: Number(form.campaign.value) || null,
                    round: Number(form.round.value) || null, format: form.format.value};
      const res = await fetch("/api/v1/reports", {method: "POST", body: JSON.stringify(body), headers: {
        "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value}});
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        statusBox.className = "error";
        const errors = data.errors ? Object.entries(data.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("；") : "";
        statusBox.textContent = errors || data.detail || `出错 Error ${res.status}`;
        return;
      }
      statusBox.textContent = `已申请：${data.title} · Requested`;
      show(data);
    });
  }
  tbody.querySelectorAll("tr[data-status=queued], tr[data-status=running]").forEach(tr => poll(Number(tr.dataset.id)));
})();
