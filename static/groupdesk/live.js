// Live regions (desk/live.py): htmx polls each region's URL every second with the version it shows; a 204 means
// unchanged. On a new version this file puts the new region in place: whole (data-live-merge="swap"), or only the
// cells of a changelist ("rows") or the read-only values of a change form ("fields"), so that ticked checkboxes and
// half-typed input survive. No inline script and no eval: it works under a strict Content-Security-Policy.
(function () {
  "use strict";

  // Set before htmx starts (it does on DOMContentLoaded, after every deferred script): no eval, no <script> from a
  // response, no injected <style> (a strict Content-Security-Policy refuses all three), no history snapshots.
  Object.assign(htmx.config, {
    allowEval: false, allowScriptTags: false, includeIndicatorStyles: false, historyEnabled: false,
  });

  const HEADER = "X-Live-Version";
  const REGION = "[data-live-version]";

  function isRegion(element) {
    return element instanceof Element && element.matches(REGION);
  }

  // Each field's value sits in a `field-<name>` cell (changelists) or row (change forms): that class is its key.
  function fieldClass(element) {
    return Array.from(element.classList).find((name) => name.startsWith("field-"));
  }

  // A changelist row is known by its action checkbox, or without actions by the link to its object.
  function rowKey(row) {
    const box = row.querySelector("input.action-select");
    if (box) return "pk:" + box.value;
    const link = row.querySelector("a[href]");
    return link ? link.getAttribute("href") : null;
  }

  function copyIfChanged(target, source) {
    if (target && source && target.innerHTML !== source.innerHTML) target.innerHTML = source.innerHTML;
  }

  function mergeRows(region, fresh) {
    const freshRows = new Map();
    fresh.querySelectorAll("tbody tr").forEach((row) => freshRows.set(rowKey(row), row));
    region.querySelectorAll("tbody tr").forEach((row) => {
      const key = rowKey(row);
      const update = freshRows.get(key);
      freshRows.delete(key);
      if (!update) return;
      row.querySelectorAll("td, th").forEach((cell) => {
        const name = fieldClass(cell);
        if (name) copyIfChanged(cell, update.querySelector("." + name));
      });
    });
    // Rows are never added under the agent's cursor (Django's actions know only the rows they were given):
    // say that the list has new ones instead.
    showNewRows(region, freshRows.size);
  }

  function showNewRows(region, count) {
    let notice = region.querySelector(".live-new-rows");
    if (!count) {
      if (notice) notice.remove();
      return;
    }
    if (!notice) {
      notice = document.createElement("ul");
      notice.className = "messagelist live-new-rows";
      notice.innerHTML = '<li class="info"><a href=""></a></li>';
      region.prepend(notice);
    }
    notice.querySelector("a").textContent =
      count === 1 ? "1 new row in this list: show it" : count + " new rows in this list: show them";
  }

  function fieldKey(value) {
    const holder = value.closest("[class*='field-']");
    return holder ? fieldClass(holder) : null;
  }

  function mergeFields(region, fresh) {
    const freshValues = new Map();
    fresh.querySelectorAll("div.readonly").forEach((value) => freshValues.set(fieldKey(value), value));
    region.querySelectorAll("div.readonly").forEach((value) => {
      const key = fieldKey(value);
      if (key) copyIfChanged(value, freshValues.get(key));
    });
  }

  function stop(region) {
    // Signed out, or the page is gone: stop asking, and say so instead of showing old numbers as current.
    region.removeAttribute("hx-trigger");
    region.removeAttribute("data-live-version");
    region.classList.add("live-stopped");
    region.setAttribute("title", "Live updates stopped: reload the page.");
    htmx.process(region);
  }

  document.addEventListener("htmx:configRequest", (event) => {
    if (isRegion(event.detail.elt)) event.detail.headers[HEADER] = event.detail.elt.dataset.liveVersion;
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (isRegion(event.detail.elt) && document.hidden) event.preventDefault(); // Nobody is looking.
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const region = event.detail.elt;
    const xhr = event.detail.xhr;
    if (!isRegion(region) || !xhr || xhr.status === 204) return;
    const version = xhr.getResponseHeader(HEADER);
    if (xhr.status !== 200 || !version) {
      stop(region);
      return;
    }
    const fresh = new DOMParser().parseFromString(xhr.responseText, "text/html").getElementById(region.id);
    if (!fresh) {
      stop(region);
      return;
    }
    const merge = region.dataset.liveMerge;
    if (merge === "rows") {
      mergeRows(region, fresh);
    } else if (merge === "fields") {
      mergeFields(region, fresh);
    } else {
      region.replaceWith(fresh);
      htmx.process(fresh);
      return;
    }
    region.dataset.liveVersion = version;
  });

  // Back on the tab: catch up at once rather than at the next tick.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) document.querySelectorAll(REGION).forEach((region) => htmx.trigger(region, "live:refresh"));
  });
})();
