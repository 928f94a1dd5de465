// flext-observability ui: live updates, span selection, auto-submitting filters.
// Served as a file (the Content-Security-Policy forbids inline scripts); no dependencies.
"use strict";
(function () {
  const body = document.body;
  const kinds = (body.dataset.live || "").split(",").filter(Boolean);
  const statusEl = document.getElementById("live-status");
  const interval = Number(body.dataset.interval || 2000);
  let lastKey = null;
  let busy = false;

  function setStatus(text, state) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.classList.toggle("on", state === "on");
    statusEl.classList.toggle("off", state === "off");
  }

  function selectSpan(spanId, scroll) {
    const waterfall = document.querySelector(".waterfall");
    if (!waterfall || !spanId) return false;
    const detail = document.getElementById("span-" + spanId);
    if (!detail || !detail.classList.contains("detail")) return false;
    document.querySelectorAll("section.detail").forEach(function (el) { el.hidden = el !== detail; });
    document.querySelectorAll(".wf-row[data-span]").forEach(function (row) {
      row.classList.toggle("selected", row.dataset.span === spanId);
    });
    waterfall.dataset.selected = spanId;
    if (scroll) {
      const row = document.getElementById("row-" + spanId);
      if (row) row.scrollIntoView({ block: "nearest" });
    }
    return true;
  }

  function spanFromHash() {
    const hash = window.location.hash;
    return hash.startsWith("#span-") ? hash.slice(6) : null;
  }

  function applySelection(scroll) {
    const fromHash = spanFromHash();
    if (fromHash && selectSpan(fromHash, scroll)) return;
    const waterfall = document.querySelector(".waterfall");
    if (waterfall) selectSpan(waterfall.dataset.selected, false);
  }

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const link = target.closest("a.span-link");
    if (link) {
      event.preventDefault();
      history.replaceState(null, "", "#span-" + link.dataset.span);
      selectSpan(link.dataset.span, true);
      return;
    }
    const row = target.closest(".wf-row[data-span]");
    if (row) {
      history.replaceState(null, "", "#span-" + row.dataset.span);
      selectSpan(row.dataset.span, false);
    }
  });
  document.addEventListener("keydown", function (event) {
    const row = event.target instanceof Element ? event.target.closest(".wf-row[data-span]") : null;
    if (!row) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      row.click();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
      if (next && next.matches(".wf-row[data-span]")) { next.focus(); next.click(); }
    }
  });
  window.addEventListener("hashchange", function () { applySelection(true); });

  document.querySelectorAll("form.filters [data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit(); });
  });

  async function refresh() {
    const live = document.getElementById("live");
    if (!live) return;
    const response = await fetch(window.location.href, {
      headers: { "X-Flext-Fragment": "1" }, cache: "no-store", credentials: "same-origin",
    });
    if (response.status >= 500) return;
    const html = await response.text();
    const scrollY = window.scrollY;
    live.innerHTML = html;  // server-rendered, every stored string escaped there
    applySelection(false);
    window.scrollTo(0, scrollY);
  }

  async function poll() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch("/api/version", { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) { setStatus("offline", "off"); return; }
      const version = await response.json();
      const key = version.store + "|" + kinds.map(function (k) { return version[k]; }).join(",");
      if (lastKey !== null && key !== lastKey) {
        if (lastKey.split("|")[0] !== version.store) {
          window.location.reload();
          return;
        }
        await refresh();
      }
      lastKey = key;
      if (version.store === "ok") setStatus(kinds.length ? "live" : "paused (older page)", kinds.length ? "on" : "");
      else setStatus("waiting for the store", "off");
    } catch (error) {
      setStatus("offline", "off");
    } finally {
      busy = false;
    }
  }

  applySelection(true);
  poll();
  window.setInterval(poll, interval);
})();
