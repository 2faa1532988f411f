/* Giliran: charts of the day report, drawn with Chart.js (served from /static/vendor). */
(function () {
  "use strict";

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function label(labels, key) {
    var text = labels[key];
    return text ? text.id + " / " + text.en : key;
  }

  function bar(canvasId, data, series, labels, options) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) { return null; }
    var colours = ["#1f6feb", "#2da44e", "#8250df", "#cf222e", "#bf8700"];
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: series.map(function (key, i) {
          return { label: label(labels, key), data: data[key], backgroundColor: colours[i % colours.length] };
        })
      },
      options: Object.assign({
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true } }
      }, options || {})
    });
  }

  function draw() {
    if (!window.Chart) {
      document.documentElement.setAttribute("data-charts", "missing");
      return;
    }
    var data = read("report-data");
    var labels = read("report-labels") || {};
    if (!data) { return; }
    window.giliranCharts = {
      slots: bar("chart-slots", data.slots, ["booked", "arrived", "served", "no_show"], labels),
      stations: bar("chart-stations", data.stations, ["wait_mean", "wait_p90", "service_mean"], labels),
      hours: bar("chart-hours", data.hours, ["booked", "walkin", "priority"], labels,
        { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } })
    };
    document.documentElement.setAttribute("data-charts", "ready");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
