// outdial console: the only script besides the vendored htmx and ECharts (CSP: script-src 'self').
// 1. every htmx request carries the session's CSRF token (the auth middleware checks it);
// 2. live views: an EventSource whose messages are server-rendered, escaped HTML fragments;
// 3. drop zones for file inputs; 4. ECharts gauges fed from data- attributes.
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (e) {
    var token = csrf();
    if (token) { e.detail.headers["X-CSRF-Token"] = token; }
  });
  // htmx does not swap error answers by default: show our error fragments (already escaped).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status >= 400 && (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  function gauges(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-gauge]").forEach(function (el) {
      var value = parseFloat(el.getAttribute("data-value") || "0");
      var cap = parseFloat(el.getAttribute("data-cap") || "0");
      var max = cap > 0 ? cap * 2 : Math.max(0.05, value * 2);
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "svg" });
      var green = cap > 0 ? (cap * 0.67) / max : 0.5, red = cap > 0 ? cap / max : 0.75;
      chart.setOption({
        animation: false,
        series: [{
          type: "gauge", min: 0, max: max * 100, radius: "95%",
          axisLine: { lineStyle: { width: 10, color: [[green, "#2e7d32"], [red, "#f9a825"], [1, "#c62828"]] } },
          axisLabel: { show: false }, splitLine: { length: 8 }, axisTick: { show: false },
          pointer: { width: 4 },
          detail: { formatter: (value * 100).toFixed(1) + "%", fontSize: 18, offsetCenter: [0, "60%"] },
          data: [{ value: value * 100 }]
        }]
      });
    });
  }

  function live(root) {
    root.querySelectorAll("[data-live-src]").forEach(function (el) {
      if (el.getAttribute("data-live-on")) { return; }
      el.setAttribute("data-live-on", "1");
      var src = new EventSource(el.getAttribute("data-live-src"));
      var status = document.getElementById("live-connection");
      src.onmessage = function (ev) {
        el.innerHTML = ev.data;  // server-rendered, autoescaped HTML
        if (window.htmx) { window.htmx.process(el); }  // its buttons (live monitoring)
        gauges(el);
        if (status) { status.className = "conn ok"; }
      };
      src.onerror = function () { if (status) { status.className = "conn lost"; } };
    });
  }

  function dropzones(root) {
    root.querySelectorAll("[data-dropzone]").forEach(function (zone) {
      var input = zone.querySelector("input[type=file]");
      if (!input) { return; }
      ["dragenter", "dragover"].forEach(function (t) {
        zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
      });
      ["dragleave", "drop"].forEach(function (t) {
        zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
      });
      zone.addEventListener("drop", function (e) {
        if (e.dataTransfer && e.dataTransfer.files.length) {
          input.files = e.dataTransfer.files;
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
    });
  }

  // upload progress of multipart htmx posts (the file can be large)
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = document.getElementById("upload-progress");
    if (bar && e.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
    }
  });

  document.addEventListener("htmx:afterRequest", function () {
    var bar = document.getElementById("upload-progress");
    if (bar) { bar.hidden = true; bar.value = 0; }
  });

  function init(root) { live(root); dropzones(root); gauges(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });
})();
