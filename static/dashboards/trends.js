/* ECharts line chart of an area against its parent and siblings (data from a json_script block). */
(function () {
  "use strict";
  function showNewest() {
    var table = document.querySelector(".dash-trend-table");
    var wrap = table && table.closest(".table-wrap");
    if (wrap && wrap.scrollWidth > wrap.clientWidth) { wrap.scrollLeft = wrap.scrollWidth; }
  }
  function init() {
    // At desk width a year and more of periods is wider than the page: the table opened on the oldest
    // and hid the newest, the ones a monthly report needs. It opens scrolled to its right end (the
    // sticky first column keeps the area names in view); the hint under it says the rest is left.
    // Again once the page has loaded: at DOMContentLoaded the table was not yet at its full width.
    showNewest();
    window.addEventListener("load", showNewest);
    var el = document.getElementById("trend-chart");
    var src = document.getElementById("trend-data");
    if (!el || !src || !window.echarts) { return; }
    var data = JSON.parse(src.textContent);
    var chart = window.echarts.init(el);
    // "92.47%" as the table writes it (data.suffix is "%" for percentages, "" otherwise).
    var suffix = data.suffix || "";
    var decimals = data.unit === "count" ? 0 : 2;
    function withUnit(v) { return v === null || v === undefined ? "—" : Number(v).toFixed(decimals) + suffix; }
    // The last period's label is centred on its point near the right edge: with a fixed 16 px there,
    // a year and more of months on a phone cut it ("2026年12" without 月). The plot stops half the
    // widest label short of the edge (ECharts writes axis labels in 12px sans-serif; its
    // containLabel makes room for the labels' height, not for one that runs over the side).
    function widestLabel(labels) {
      var ctx = document.createElement("canvas").getContext("2d");
      ctx.font = "12px sans-serif";
      var widest = 0;
      // A label of two lines (the period not over yet, "2026年12月" over "（至今）") is as wide as its longer line.
      labels.forEach(function (label) {
        String(label).split("\n").forEach(function (line) { widest = Math.max(widest, ctx.measureText(line).width); });
      });
      return widest;
    }
    var axisLabels = data.axis_labels || data.labels || data.periods;
    var widest = widestLabel(axisLabels);
    var plotLeft = 48, plotRight = Math.max(16, Math.ceil(widest / 2) + 4);
    // Which periods are labelled when not all fit: every step-th counted back from the newest, so the
    // newest period, the one a monthly report is about, always has its label. ECharts' own choice
    // counts from the oldest, and with a font a little wider (another machine's CJK font) a phone
    // labelled 2025-09, 2026-03 and 2026-09 of sixteen months, leaving the last one unnamed.
    var step = 1;
    function fitStep() {
      var slot = (el.clientWidth - plotLeft - plotRight) / Math.max(1, axisLabels.length);
      step = Math.max(1, Math.ceil((widest + 8) / Math.max(1, slot)));
    }
    fitStep();
    chart.setOption({
      // richText: the tooltip is drawn on the canvas. The default HTML tooltip is built with inline
      // style attributes, which the Content Security Policy (style-src 'self') blocks.
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: withUnit },
      legend: { type: "scroll", bottom: 0 },
      // top: room for the value axis's name above its ticks.
      // bottom: a second line of a label ("（至今）") takes 14 px more above the legend.
      grid: { left: plotLeft, right: plotRight, top: 36,
              bottom: axisLabels.some(function (l) { return String(l).indexOf("\n") >= 0; }) ? 70 : 56 },
      xAxis: { type: "category", data: axisLabels,
               axisLabel: { interval: function (index) { return (axisLabels.length - 1 - index) % step === 0; } } },
      // Named with the unit ("每万人"): its ticks alone (0.9 … 2.7) said nothing of what they counted.
      yAxis: { type: "value", scale: true, name: data.axis_name || "", nameLocation: "end",
               nameTextStyle: { align: "left" }, axisLabel: { formatter: function (v) { return v + suffix; } } },
      series: data.series.map(function (s) {
        return {
          name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: s.role === "self" ? 6 : 3,
          lineStyle: { width: s.role === "self" ? 4 : s.role === "parent" ? 2 : 1, type: s.role === "parent" ? "dashed" : "solid",
                       opacity: s.role === "sibling" ? 0.5 : 1 }
        };
      })
    });
    el.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { fitStep(); chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
