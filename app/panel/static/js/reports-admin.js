// The admin page's reports: conversations opened and resolved, first response and
// resolution times, per day (charts, Chart.js from npm) and per agent (a table).

import * as api from './api.js';
import { element } from './dom.js';
import { t } from './i18n.js';
import { showToast } from './notifications.js';

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400000;
const COLORS = { opened: '#128c7e', resolved: '#7c3aed', firstResponse: '#d97706', resolution: '#2563eb' };

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// Seconds as minutes with one decimal ("–" when there is no figure).
function minutes(seconds) {
  return seconds == null ? '–' : (seconds / 60).toFixed(1);
}

export class ReportsAdmin {
  constructor() {
    this.report = null;
    this.charts = [];
    const today = new Date();
    $('report-until').value = isoDay(today);
    $('report-since').value = isoDay(new Date(today.getTime() - 6 * DAY_MS));
    $('report-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
  }

  async load() {
    try {
      this.report = await api.reports($('report-since').value, $('report-until').value);
      this.draw();
    } catch (error) {
      showToast(error.message, 'error');
    }
  }

  draw() {
    const report = this.report;
    if (!report) return;
    const totals = report.totals;
    $('report-opened').textContent = totals.opened;
    $('report-resolved').textContent = totals.resolved;
    $('report-first-response').textContent = minutes(totals.avgFirstResponseSeconds);
    $('report-resolution').textContent = minutes(totals.avgResolutionSeconds);
    $('report-agents').tBodies[0].replaceChildren(...report.byAgent.map((agent) => {
      const row = element('tr');
      row.dataset.userId = agent.userId;
      row.append(
        element('td', null, agent.name),
        element('td', 'num', agent.opened),
        element('td', 'num', agent.resolved),
        element('td', 'num', minutes(agent.avgFirstResponseSeconds)),
        element('td', 'num', minutes(agent.avgResolutionSeconds)),
      );
      return row;
    }));
    this.drawCharts(report.byDay);
  }

  drawCharts(days) {
    this.charts.forEach((chart) => chart.destroy());
    const labels = days.map((day) => day.date);
    const common = { responsive: true, maintainAspectRatio: false, animation: false };
    this.charts = [
      new window.Chart($('chart-volume'), {
        type: 'bar',
        data: {
          labels,
          datasets: [
            { label: t('reports.opened'), data: days.map((d) => d.opened), backgroundColor: COLORS.opened },
            { label: t('reports.resolved'), data: days.map((d) => d.resolved), backgroundColor: COLORS.resolved },
          ],
        },
        options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      new window.Chart($('chart-times'), {
        type: 'line',
        data: {
          labels,
          datasets: [
            { label: t('reports.firstResponseMinutes'), data: days.map((d) => d.avgFirstResponseSeconds == null ? null : d.avgFirstResponseSeconds / 60), borderColor: COLORS.firstResponse, backgroundColor: COLORS.firstResponse, spanGaps: true },
            { label: t('reports.resolutionMinutes'), data: days.map((d) => d.avgResolutionSeconds == null ? null : d.avgResolutionSeconds / 60), borderColor: COLORS.resolution, backgroundColor: COLORS.resolution, spanGaps: true },
          ],
        },
        options: { ...common, scales: { y: { beginAtZero: true } } },
      }),
    ];
  }
}
