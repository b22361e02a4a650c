// outdial console, survey results (issue 14): one bar chart per question, fed from the
// server-rendered data-dist attribute ({"labels": [...], "values": [...], "name": "..."}).
// A static file because the CSP allows scripts from this origin only (no inline script).
(function () {
  "use strict";
  var COLORS = ["#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32"];

  function color(i, n) {
    // low scores red, high scores green, whatever the scale's length
    if (n <= 1) { return COLORS[4]; }
    return COLORS[Math.round((i / (n - 1)) * (COLORS.length - 1))];
  }

  function charts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-dist]").forEach(function (el) {
      var data;
      try { data = JSON.parse(el.getAttribute("data-dist") || "{}"); } catch (e) { return; }
      var labels = data.labels || [], values = data.values || [];
      var yesNo = labels.length === 2 && data.kind === "yes_no";
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        grid: { left: 32, right: 8, top: 20, bottom: 22 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: labels, axisTick: { show: false } },
        yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef1f5" } } },
        series: [{
          type: "bar", name: data.name || "", barMaxWidth: 28,
          label: { show: true, position: "top", fontSize: 11 },
          data: values.map(function (v, i) {
            var c = yesNo ? (i === 0 ? COLORS[4] : COLORS[0]) : color(i, values.length);
            return { value: v, itemStyle: { color: c } };
          })
        }]
      });
      el.setAttribute("data-rendered", "1");
    });
  }

  function trends(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-trend]").forEach(function (el) {
      var data;
      try { data = JSON.parse(el.getAttribute("data-trend") || "{}"); } catch (e) { return; }
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        grid: { left: 44, right: 44, top: 48, bottom: 24 },
        legend: { top: 6, right: 50 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: data.labels || [] },
        yAxis: [
          { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
          { type: "value", minInterval: 1, splitLine: { show: false } }
        ],
        series: [
          { type: "bar", name: data.offered_name, yAxisIndex: 1, data: data.offered || [],
            itemStyle: { color: "#c6dbf7" }, barMaxWidth: 24 },
          { type: "line", name: data.csat_name, data: data.csat || [], connectNulls: true,
            itemStyle: { color: "#2e7d32" }, label: { show: true, formatter: "{c}%" } }
        ]
      });
      el.setAttribute("data-rendered", "1");
    });
  }

  function init(root) { charts(root); trends(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });
})();
