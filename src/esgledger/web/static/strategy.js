// Carbon strategy: line charts (forecast, pathway) with the 95 % interval of one series as a
// shaded band. The figures come from the page itself (a script[type="application/json"]
// named by the holder's data-source, written by the server), so each chart shows exactly the
// numbers of the table beside it. ECharts is vendored.
(function () {
  "use strict";

  function round(values) {
    return values.map(function (v) { return v === null ? null : Math.round(v * 100) / 100; });
  }

  function draw(holder) {
    var source = document.getElementById(holder.getAttribute("data-source"));
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var years = data.years.map(String);
    var names = data.names || {};
    var series = data.series.map(function (s) {
      return {
        name: names[s.key] || s.key,
        type: "line",
        data: round(s.data),
        connectNulls: false,
        symbolSize: 6
      };
    });
    if (data.band) {
      var lower = round(data.band.lower);
      var width = data.band.upper.map(function (u, i) {
        return u === null || lower[i] === null ? null : Math.round((u - lower[i]) * 100) / 100;
      });
      series.push({
        name: names.lower || "lower", type: "line", data: lower, stack: "band",
        lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false }
      });
      series.push({
        name: names.upper || "upper", type: "line", data: width, stack: "band",
        lineStyle: { opacity: 0 }, areaStyle: { opacity: 0.15 }, symbol: "none",
        tooltip: { show: false }
      });
    }
    var chart = echarts.init(holder);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: data.series.map(function (s) { return names[s.key] || s.key; }) },
      grid: { left: 80, right: 30, top: 40, bottom: 30 },
      xAxis: { type: "category", data: years },
      yAxis: { type: "value", name: data.unit || "" },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    var holders = document.querySelectorAll(".line-chart[data-source]");
    for (var i = 0; i < holders.length; i += 1) {
      draw(holders[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
