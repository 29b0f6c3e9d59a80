// Keeps the collection progress panel current while collections run: polls /api/me/collection (the session
// cookie authenticates) and updates each institution's row; stops once nothing is queued, running or retrying.
(function () {
  "use strict";
  var panel = document.querySelector(".progress-panel");
  if (!panel || panel.getAttribute("data-active") !== "true") { return; }
  var url = panel.getAttribute("data-progress-url");
  // The page's language: the panel carries its labels (data-labels); the JSON API's reasons are Korean, so the
  // known ones are translated through the same map. Without it the labels are Korean.
  var labels = { idle: "-", queued: "대기 중", running: "받는 중", retrying: "다시 시도 예정", done: "완료", failed: "실패" };
  var freshness = { fresh: "최신", waiting: "수신 전", stale: "오래됨" };
  var reasons = {};
  try {
    var given = JSON.parse(panel.getAttribute("data-labels") || "null");
    if (given) {
      labels = given.phases || labels;
      freshness = given.freshness || freshness;
      reasons = given.reasons || reasons;
    }
  } catch (ignored) { /* keep the Korean labels */ }
  var active = { queued: true, running: true, retrying: true };

  function text(node, value) { if (node) { node.textContent = value; } }
  function when(dtime) {
    return dtime ? dtime.slice(0, 4) + "." + dtime.slice(4, 6) + "." + dtime.slice(6, 8) + " " + dtime.slice(8, 10) + ":" + dtime.slice(10, 12) : "-";
  }
  function badge(kind, label) {
    var span = document.createElement("span");
    span.className = "badge badge-" + kind;
    span.textContent = label;
    return span;
  }
  function render(body) {
    var running = false;
    body.institutions.forEach(function (item) {
      if (active[item.phase]) { running = true; }
      var row = panel.querySelector('tr[data-org="' + item.org_code + '"]');
      if (!row) { return; }
      var phase = row.querySelector('[data-field="phase"]');
      phase.replaceChildren(badge(item.phase, labels[item.phase] || item.phase));
      if (item.next_attempt) {
        var next = document.createElement("span");
        next.className = "muted small";
        next.textContent = " " + when(item.next_attempt);
        phase.appendChild(next);
      }
      var fresh = row.querySelector('[data-field="freshness"]');
      var waiting = !item.last_attempt && active[item.phase];
      fresh.replaceChildren(item.fresh ? badge("ok", freshness.fresh) : waiting ? badge("queued", freshness.waiting) : badge("warn", freshness.stale));
      if (!item.fresh && !waiting && item.reason) {
        var reason = document.createElement("span");
        reason.className = "muted small";
        reason.textContent = " " + (reasons[item.reason] || item.reason);
        fresh.appendChild(reason);
      }
      text(row.querySelector('[data-field="last"]'), when(item.last_success));
      text(row.querySelector('[data-field="records"]'), item.records.toLocaleString("ko-KR"));
    });
    var bar = panel.querySelector("progress");
    bar.max = body.total || 1;
    bar.value = body.finished;
    bar.textContent = body.finished + " / " + body.total;
    text(panel.querySelector("[data-finished]"), String(body.finished));
    return running;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && render(body)) { window.setTimeout(poll, 1000); }
        else if (body) {
          panel.setAttribute("data-active", "false");
          // A page that shows the collected data itself (the dashboard) is rendered again with all of it.
          if (panel.getAttribute("data-reload-when-done") === "true") { window.location.reload(); }
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
