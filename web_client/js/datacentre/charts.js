// The data centre's ECharts options, one builder per chart. Tooltips render on the canvas
// (renderMode "richText"): ECharts' HTML tooltips carry inline styles the page's CSP refuses.

import * as echarts from "/vendor/echarts.js";

const charts = new Map();

const TOOLTIP = { renderMode: "richText" };
const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

export { percent };

/** Draw (or redraw) the chart in the element `id`. */
export function draw(id, option) {
  let chart = charts.get(id);
  if (!chart) {
    chart = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    charts.set(id, chart);
  }
  chart.setOption({ animation: false, ...option }, true);
}

window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));

export function pie(items) {
  return {
    tooltip: { ...TOOLTIP, trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { type: "scroll", bottom: 0 },
    series: [{ type: "pie", radius: ["35%", "65%"], top: -20, data: items.map(([name, value]) => ({ name, value })),
      label: { formatter: "{b}\n{c}" } }],
  };
}

export function bars(names, values, seriesName) {
  return {
    tooltip: { ...TOOLTIP, trigger: "axis" },
    grid: { left: 40, right: 10, top: 20, bottom: 60 },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", name: seriesName, data: values, label: { show: true, position: "top" } }],
  };
}

/** Bars of decided and settled results per month, and the settlement rate as a line (right axis). */
export function months(rows, names) {
  return {
    tooltip: { ...TOOLTIP, trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 40, right: 50, top: 20, bottom: 50 },
    xAxis: { type: "category", data: rows.map((m) => m.month) },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
    series: [
      { type: "bar", name: names.decided, data: rows.map((m) => m.decided) },
      { type: "bar", name: names.settled, data: rows.map((m) => m.settled) },
      { type: "line", name: names.rate, yAxisIndex: 1,
        data: rows.map((m) => (m.settlement_rate === null ? null : Math.round(m.settlement_rate * 1000) / 10)) },
    ],
  };
}

/** Mean days spent in each step against the mean limit, and how many were late. */
export function stepTimes(rows, stepName, names) {
  return {
    tooltip: { ...TOOLTIP, trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 40, right: 40, top: 20, bottom: 50 },
    xAxis: { type: "category", data: rows.map((s) => stepName(s.step)) },
    yAxis: [{ type: "value" }, { type: "value", minInterval: 1 }],
    series: [
      { type: "bar", name: names.mean, data: rows.map((s) => s.mean_days) },
      { type: "bar", name: names.limit, data: rows.map((s) => s.limit_days) },
      { type: "line", name: names.overdue, yAxisIndex: 1, data: rows.map((s) => s.overdue) },
    ],
  };
}
