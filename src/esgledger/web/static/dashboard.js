// Carbon panorama: the trend chart (stacked tCO2e by scope, energy in tce as a line).
// The figures come from the page itself (script#dashboard-data, written by the server), so
// the chart shows exactly the numbers of the table below it. ECharts is vendored.
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("trend-chart");
    var source = document.getElementById("dashboard-data");
    if (!holder || !source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var labels = data.labels;
    var scope2 = data.basis === "market" ? "scope2_market" : "scope2_location";
    var years = data.trend.map(function (row) { return String(row.year); });
    function column(name) {
      return data.trend.map(function (row) { return Math.round(row[name] * 100) / 100; });
    }
    function bar(name, key) {
      return { name: name, type: "bar", stack: "ghg", yAxisIndex: 0, data: column(key) };
    }
    var chart = echarts.init(holder);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 70, right: 70, top: 40, bottom: 30 },
      xAxis: { type: "category", data: years },
      yAxis: [
        { type: "value", name: labels.tco2e },
        { type: "value", name: labels.tce, splitLine: { show: false } }
      ],
      series: [
        bar(labels.scope1, "scope1"),
        bar(labels.scope2, scope2),
        bar(labels.scope3, "scope3"),
        {
          name: labels.energy,
          type: "line",
          yAxisIndex: 1,
          data: column("energy_tce"),
          symbolSize: 8
        }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
