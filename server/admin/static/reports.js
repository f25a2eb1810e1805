// The report page's charts (Chart.js, vendored), from the JSON the page carries; and the
// monthly sheet's print button.
(function () {
  const printButton = document.getElementById("print");
  if (printButton) printButton.addEventListener("click", () => window.print());
  const source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const Chart = window.Chart;
  Chart.defaults.font.family = '"DejaVu Sans", system-ui, sans-serif';
  Chart.defaults.animation = false; // drawn at once, also for printing
  const options = (extra) => ({ responsive: true, maintainAspectRatio: false, ...extra });
  const charts = {};
  charts.hours = new Chart(document.getElementById("chart-hours"), {
    type: "bar",
    data: {
      labels: data.hours.labels,
      datasets: [
        { label: data.hours.issued_label, data: data.hours.issued, backgroundColor: "#7fa7d1" },
        { label: data.hours.served_label, data: data.hours.served, backgroundColor: "#1d6b35" },
      ],
    },
    options: options({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
  });
  charts.waits = new Chart(document.getElementById("chart-waits"), {
    type: "bar",
    data: {
      labels: data.waits.labels,
      datasets: [{ label: data.waits.label, data: data.waits.counts, backgroundColor: "#c77d12" }],
    },
    options: options({ plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
  });
  charts.satisfaction = new Chart(document.getElementById("chart-satisfaction"), {
    type: "bar",
    data: {
      labels: data.satisfaction.labels,
      datasets: [{ label: data.satisfaction.label, data: data.satisfaction.values, backgroundColor: "#0b4f8a" }],
    },
    options: options({ indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100 } } }),
  });
  window.xephangCharts = charts;
  document.body.dataset.charts = "drawn";
  // Printing: the canvases take the printed page's width.
  window.addEventListener("beforeprint", () => Object.values(charts).forEach((c) => c.resize()));
})();
