/* Draws each report's chart (Chart.js) from the numbers the server put beside it. The table
   next to the chart holds the same numbers, so nothing is lost without JavaScript. */
(function () {
  "use strict";

  var PALETTE = ["#2f6fdf", "#f08c00", "#2b9a66", "#c2255c", "#7048e8", "#868e96", "#1098ad"];

  function draw(figure) {
    var script = figure.querySelector('script[type="application/json"]');
    var canvas = figure.querySelector("canvas");
    if (!script || !canvas || !window.Chart) return;
    var spec = JSON.parse(script.textContent);
    var horizontal = Boolean(spec.horizontal);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.data,
            backgroundColor: PALETTE[index % PALETTE.length],
          };
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: spec.series.length > 1, position: "bottom" } },
        scales: {
          x: { stacked: Boolean(spec.stacked), ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: Boolean(spec.stacked), beginAtZero: true },
        },
      },
    });
  }

  function init() {
    document.querySelectorAll("figure.chart").forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
