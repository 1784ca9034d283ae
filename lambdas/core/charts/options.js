// The chart definitions: one ECharts option per chart, built from Gold rows. The dashboard page draws them
// in the browser (served as an ES module, echarts from the page's script tag) and the run report renders the
// same options to SVG on the server (echarts' server-side rendering), so a chart reads the same in both.
// Plain JavaScript with types in options.d.ts: the browser loads this file as it is, with no build step. It
// imports nothing but format.js, uses no DOM and no echarts API: an option is data and formatter functions.
import { formatCount, formatDateTime, formatHourLabel, formatPercent, formatSeconds } from './format.js';

export const COLOURS = [
  '#1db954',
  '#2e77d0',
  '#f59b23',
  '#e8115b',
  '#8d67ab',
  '#148a08',
  '#509bf5',
  '#b49bc8',
  '#777',
];

/** How many countries the country chart shows. */
export const MAX_COUNTRIES = 15;

// The grid's left/right/top/bottom bound everything an axis draws, its labels included: ECharts shrinks the
// plot until every axis label fits inside that box. `containLabel` would not do: it only makes room for the
// labels' height and width, so a label centred on the first or last tick of a time axis (a short range that
// ends on the hour) hung half outside the chart and was cut off by the canvas edge.
const GRID = {
  left: 16,
  right: 16,
  top: 32,
  bottom: 8,
  outerBoundsMode: 'same',
  outerBoundsContain: 'axisLabel',
};

/** What every chart shares: UTC, the palette, no animation, the grid above; `option.grid` refines it. */
function chart(option) {
  const { grid, ...rest } = option;
  return {
    useUTC: true,
    color: COLOURS,
    animation: false,
    textStyle: { fontFamily: 'system-ui, sans-serif' },
    grid: { ...GRID, ...grid },
    tooltip: { trigger: 'item' },
    ...rest,
  };
}

/** Horizontal ranked bars, rank 1 on top. `rows` carry name/value and anything else the tooltip needs. */
export function rankedBars(
  rows,
  { valueText = formatCount, axisText = valueText, colour = COLOURS[0] } = {},
) {
  // Category labels get a fixed width and are truncated to it, so long names never push past the card's edge.
  const labelWidth = Math.min(210, Math.max(40, ...rows.map((r) => r.name.length * 7)));
  return chart({
    grid: { left: labelWidth + 16, right: 56, top: 8, bottom: 24, outerBoundsMode: 'none' },
    xAxis: { type: 'value', axisLabel: { formatter: (v) => axisText(v), hideOverlap: true } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((r) => r.name),
      axisLabel: { width: labelWidth, overflow: 'truncate' },
    },
    tooltip: { trigger: 'item', formatter: (p) => `${p.name}<br><b>${valueText(p.value)}</b>` },
    series: [
      {
        type: 'bar',
        data: rows,
        itemStyle: { color: colour, borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: 'right', formatter: (p) => valueText(p.value) },
      },
    ],
  });
}

/** Plays (and skips, when the rows have them) per hour on a UTC time axis. */
export function playsPerHour(rows) {
  const series = [
    {
      name: 'Plays',
      type: 'line',
      showSymbol: rows.length < 50,
      areaStyle: { opacity: 0.12 },
      data: rows.map((r) => [r.hour_start, r.plays]),
    },
  ];
  if (rows.some((r) => r.skips !== undefined)) {
    series.push({
      name: 'Skips',
      type: 'line',
      showSymbol: rows.length < 50,
      data: rows.map((r) => [r.hour_start, r.skips]),
    });
  }
  return chart({
    tooltip: {
      trigger: 'axis',
      formatter: (ps) =>
        `${formatDateTime(ps[0].value[0])}<br>` +
        ps.map((p) => `${p.marker}${p.seriesName}: <b>${formatCount(p.value[1])}</b>`).join('<br>'),
    },
    legend: { top: 0, right: 8 },
    xAxis: {
      type: 'time',
      axisLabel: { formatter: (v) => formatHourLabel(new Date(v).toISOString()), hideOverlap: true },
    },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => formatCount(v) } },
    series,
  });
}

/** The most streamed tracks, "song — artist", by streams. */
export function topTracks(rows) {
  return rankedBars(
    rows.map((r) => ({
      name: `${r.song_name} — ${r.artist_name}`,
      value: r.streams,
      ...(r.song_id === undefined ? {} : { song_id: r.song_id }),
    })),
  );
}

/** The most streamed artists, by streams. */
export function topArtists(rows, { colour = COLOURS[1] } = {}) {
  return rankedBars(
    rows.map((r) => ({ name: r.artist_name, value: r.streams })),
    { colour },
  );
}

/** Share of events per device type. */
export function deviceMix(rows) {
  return chart({
    tooltip: {
      trigger: 'item',
      formatter: (p) =>
        `${p.name}: <b>${formatCount(p.value)}</b> events (${formatPercent(p.percent / 100)})`,
    },
    legend: { orient: 'vertical', left: 0, top: 'middle' },
    series: [
      {
        type: 'pie',
        radius: ['40%', '70%'],
        center: ['60%', '50%'],
        label: { formatter: (p) => `${p.name} ${formatPercent(p.data.share)}` },
        data: rows.map((r) => ({ name: r.device_type, value: r.events, share: r.share_of_events })),
      },
    ],
  });
}

/** Events per country, the first MAX_COUNTRIES. */
export function countryMix(rows) {
  return rankedBars(
    rows.slice(0, MAX_COUNTRIES).map((r) => ({ name: r.country, value: r.events, share: r.share_of_events })),
    { valueText: formatCount, colour: COLOURS[1] },
  );
}

/** Plays and skip rate by hour of day (all time). */
export function hourlyPreferences(rows) {
  return chart({
    legend: { top: 0, right: 8 },
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 8 },
    xAxis: { type: 'category', data: rows.map((r) => String(r.hour_of_day).padStart(2, '0')) },
    yAxis: [
      { type: 'value', axisLabel: { formatter: (v) => formatCount(v) } },
      { type: 'value', axisLabel: { formatter: (v) => formatPercent(v) }, splitLine: { show: false } },
    ],
    series: [
      {
        name: 'Plays',
        type: 'bar',
        data: rows.map((r) => r.plays),
        tooltip: { valueFormatter: (v) => formatCount(v) },
      },
      {
        name: 'Skip rate',
        type: 'line',
        yAxisIndex: 1,
        data: rows.map((r) => r.skip_rate),
        tooltip: { valueFormatter: (v) => formatPercent(v) },
      },
    ],
  });
}

/** One listener's plays by local hour of day (0-23), every hour on the axis, 0 where there are none. */
export function listeningClock(rows) {
  const plays = new Map(rows.map((r) => [r.local_hour, r.plays]));
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  return chart({
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 8, top: 8 },
    xAxis: { type: 'category', data: hours.map((hour) => String(hour).padStart(2, '0')) },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => formatCount(v) } },
    series: [
      {
        name: 'Plays',
        type: 'bar',
        data: hours.map((hour) => plays.get(hour) ?? 0),
        tooltip: { valueFormatter: (v) => formatCount(v) },
      },
    ],
  });
}

/** Artists by skip rate (skips per play and skip). */
export function artistSkipRates(rows) {
  return rankedBars(
    rows.map((r) => ({ name: r.artist_name, value: r.skip_rate, plays: r.plays, skips: r.skips })),
    { valueText: formatPercent, axisText: formatPercent, colour: COLOURS[3] },
  );
}

/** Songs per percentile band of all-time streams (gold.song_popularity_distribution). */
export function popularity(rows) {
  return chart({
    tooltip: {
      trigger: 'item',
      formatter: (p) =>
        `${p.name} of songs by streams<br><b>${formatCount(p.value)}</b> songs, ${formatPercent(p.data.share)} of plays`,
    },
    xAxis: {
      type: 'category',
      name: 'songs by streams',
      nameLocation: 'middle',
      nameGap: 26,
      data: rows.map((r) => r.bucket),
    },
    yAxis: { type: 'value', name: 'songs', axisLabel: { formatter: (v) => formatCount(v) } },
    // The axis names count too, so "songs by streams" below the labels gets its room.
    grid: { left: 8, outerBoundsContain: 'all' },
    series: [
      {
        type: 'bar',
        itemStyle: { color: COLOURS[4], borderRadius: [4, 4, 0, 0] },
        label: { show: true, position: 'top', formatter: (p) => formatCount(p.value) },
        data: rows.map((r) => ({ name: r.bucket, value: r.songs, plays: r.plays, share: r.share_of_plays })),
      },
    ],
  });
}

/** Seconds per workflow step of one run, in the order the steps ran. */
export function stepSeconds(steps) {
  return rankedBars(
    Object.entries(steps).map(([name, value]) => ({ name, value })),
    { valueText: formatSeconds, colour: COLOURS[2] },
  );
}
