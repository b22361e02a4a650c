// Report charts (web/pages_reports.py): each [data-chart] element holds its data as JSON
// {x, series: [{name, data}], unit: ratio|seconds|count, kind: line|bar, target?, drill?}; ratios are
// already in percent. Separate from console.js so pages without charts do not load ECharts.
(function () {
  "use strict";
  var COLORS = ["#1f6fd1", "#e07b00", "#2e7d32", "#8e44ad", "#c62828", "#00838f", "#6d4c41", "#546e7a"];

  function fmt(unit, v) {
    if (v === null || v === undefined || isNaN(v)) { return "–"; }
    if (unit === "ratio") { return v.toFixed(1) + " %"; }
    if (unit === "seconds") {
      var s = Math.round(v), m = Math.floor(s / 60);
      return m + ":" + ("0" + (s % 60)).slice(-2);
    }
    return Math.round(v).toLocaleString();
  }

  function draw(el) {
    var d;
    try { d = JSON.parse(el.getAttribute("data-chart") || "{}"); } catch (e) { return; }
    var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "svg" });
    var many = (d.x || []).length > 48;
    var series = (d.series || []).map(function (s, i) {
      var out = {
        name: s.name, type: d.kind === "bar" ? "bar" : "line", data: s.data,
        connectNulls: false, showSymbol: (d.x || []).length <= 48, color: COLORS[i % COLORS.length]
      };
      if (i === 0 && typeof d.target === "number") {
        out.markLine = { symbol: "none", silent: true, lineStyle: { color: "#c62828", type: "dashed" },
          label: { formatter: fmt(d.unit, d.target) }, data: [{ yAxis: d.target }] };
      }
      return out;
    });
    chart.setOption({
      animation: false,
      color: COLORS,
      grid: { left: 56, right: 16, top: series.length > 1 ? 36 : 16, bottom: many ? 64 : 32 },
      legend: series.length > 1 ? { type: "scroll", top: 0 } : { show: false },
      // richText: the tooltip is drawn in the SVG; an HTML tooltip sets inline styles, which the
      // console's CSP (style-src 'self') blocks
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return fmt(d.unit, v); } },
      xAxis: { type: "category", data: d.x },
      yAxis: { type: "value", min: 0, minInterval: d.unit === "count" ? 1 : 0, axisLabel: { formatter: function (v) { return fmt(d.unit, v); } } },
      dataZoom: many ? [{ type: "slider", bottom: 8, height: 20 }, { type: "inside" }] : [],
      series: series
    });
    if (d.drill && !el.getAttribute("data-chart-drill")) {
      // a point opens the calls behind it: /reports/calls with the point's interval and series
      el.setAttribute("data-chart-drill", "1");
      chart.on("click", function (p) {
        var at = (d.drill.at || [])[p.dataIndex];
        if (at === undefined) { return; }
        window.location.href = d.drill.base + "&at=" + encodeURIComponent(at) + (d.drill.series[p.seriesIndex] || "");
      });
    }
    el.setAttribute("data-chart-drawn", "1");
  }

  function init() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(draw);
    window.addEventListener("resize", function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var c = window.echarts.getInstanceByDom(el);
        if (c) { c.resize(); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
