// The dashboard page: fetches the JSON API, draws ECharts charts and tables, and keeps the state in the URL
// (?from=&to=&user=). The charts are the definitions of charts/options.js, the ones the run report renders
// to SVG. Every chart instance is exposed as window.__charts[name] so tests can compare what is drawn with
// Gold.
import { formatCount, formatDate, formatDateTime, formatMinutes, formatPercent } from './charts/format.js';
import * as define from './charts/options.js';

const echarts = window.echarts;
const charts = {};
window.__charts = charts;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = {
  from: params.get('from'),
  to: params.get('to'),
  user: params.get('user'),
  period: params.get('period') ?? 'all_time',
  range: null,
};

/** Creates an element: h('td', { class: 'num' }, '1,234'). Text is always set as text, never as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function saveUrl() {
  const p = new URLSearchParams();
  if (state.from && state.to) {
    p.set('from', state.from);
    p.set('to', state.to);
  }
  if (state.user) p.set('user', state.user);
  if (state.period !== 'all_time') p.set('period', state.period);
  const qs = p.toString();
  history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
}

class ApiError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

async function api(path) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' } });
  } catch {
    throw new ApiError(
      0,
      'offline',
      'The dashboard server does not answer. Is `npx mds dashboard` still running?',
    );
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, body?.error?.kind ?? 'http', body?.error?.message ?? `HTTP ${res.status}`);
  }
  return body;
}

function showMessage(text, { error = false, retry = null } = {}) {
  const box = $('message');
  box.replaceChildren(text);
  box.className = error ? 'message error' : 'message';
  box.dataset.kind = error ? 'error' : 'info';
  if (retry) {
    const b = h('button', { type: 'button' }, 'Try again');
    b.addEventListener('click', retry);
    box.append(b);
  }
  box.hidden = false;
}

function clearMessage() {
  $('message').hidden = true;
  $('message').replaceChildren();
}

function setLoading(on) {
  for (const el of document.querySelectorAll('main .chart, main .table-wrap, main .stats, .kpi')) {
    el.classList.toggle('skeleton', on);
  }
}

/** Replaces a chart by a sentence saying why there is nothing to draw. */
function noData(name, text) {
  charts[name]?.dispose();
  delete charts[name];
  const el = $(`chart-${name}`);
  el.replaceChildren(h('div', { class: 'none', 'data-none': name }, text));
}

/** Draws a chart definition (charts/options.js) into its element on the page. */
function draw(name, option) {
  const el = $(`chart-${name}`);
  if (!charts[name]) {
    el.replaceChildren();
    charts[name] = echarts.init(el, null, { renderer: 'canvas' });
  }
  charts[name].setOption(option, true);
}

function renderKpis(o) {
  const t = o.totals;
  const set = (k, v) => {
    document.querySelector(`[data-kpi="${k}"] b`).textContent = v;
  };
  set('plays', formatCount(t.plays));
  set('minutes', formatMinutes(t.minutesListened));
  set('skipRate', t.plays ? formatPercent(t.skips / t.plays) : '–');
  set('listeners', formatCount(t.activeListeners));
  set('sessions', formatCount(t.sessions));
}

/** What each source is called on the page. */
const SOURCE_NAMES = {
  simulator: 'Simulator',
  spotify_api: 'Spotify Web API (recently played)',
  spotify_history: 'Spotify streaming history',
};

/** Which source(s) the data of these dates came from, with Silver's events of each. */
function renderSources(rows) {
  const list = $('sources-list');
  list.replaceChildren();
  if (rows.length === 0) {
    list.textContent = 'unknown (Silver has no source yet)';
    return;
  }
  rows.forEach((r, i) => {
    if (i > 0) list.append(' · ');
    list.append(
      h('b', { 'data-source': r.source }, SOURCE_NAMES[r.source] ?? r.source),
      ` ${formatCount(r.events)} events`,
    );
  });
}

function renderPlaysPerHour(rows) {
  if (rows.length === 0) return noData('playsPerHour', 'No plays in these dates.');
  draw('playsPerHour', define.playsPerHour(rows));
}

function renderDeviceMix(rows) {
  if (rows.length === 0) return noData('deviceMix', 'No events in these dates.');
  draw('deviceMix', define.deviceMix(rows));
}

function renderCountryMix(rows) {
  if (rows.length === 0) return noData('countryMix', 'No events in these dates.');
  draw('countryMix', define.countryMix(rows));
}

function renderHourly(rows) {
  if (rows.length === 0) return noData('hourlyPreferences', 'No plays yet.');
  draw('hourlyPreferences', define.hourlyPreferences(rows));
}

function renderPopularity(rows) {
  if (rows.length === 0) return noData('popularity', 'No plays yet.');
  draw('popularity', define.popularity(rows));
}

function table(id, columns, rows, emptyText) {
  const wrap = $(id);
  if (rows.length === 0) {
    wrap.replaceChildren(h('div', { class: 'none' }, emptyText));
    return;
  }
  const head = h(
    'tr',
    {},
    columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.title)),
  );
  const body = rows.map((r) =>
    h(
      'tr',
      { 'data-row': JSON.stringify(r) },
      columns.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.value(r))),
    ),
  );
  wrap.replaceChildren(
    h('table', { 'data-table': id.replace('table-', '') }, h('thead', {}, head), h('tbody', {}, body)),
  );
}

function renderSessions(o) {
  const s = o.sessionStats;
  const item = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value));
  $('session-stats').replaceChildren(
    item('Sessions', formatCount(s.sessions)),
    item('Listeners', formatCount(s.users)),
    item('Avg. per session', formatMinutes(s.avgMinutes)),
    item('Longest session', formatMinutes(s.maxMinutes)),
  );
  $('session-stats').dataset.sessions = String(s.sessions);
  table(
    'table-streaks',
    [
      { title: 'Listener', value: (r) => r.user_id },
      { title: 'Artist', value: (r) => r.artist_name },
      { title: 'Plays in a row', num: true, value: (r) => formatCount(r.streak_length) },
      { title: 'Started (UTC)', value: (r) => formatDateTime(r.streak_start) },
    ],
    o.streaks,
    'No streaks of three or more plays of one artist in these dates.',
  );
}

function renderSongSkips(rows) {
  table(
    'table-songSkipRates',
    [
      { title: 'Song', value: (r) => r.song_name },
      { title: 'Artist', value: (r) => r.artist_name },
      { title: 'Plays', num: true, value: (r) => formatCount(r.plays) },
      { title: 'Skips', num: true, value: (r) => formatCount(r.skips) },
      { title: 'Skip rate', num: true, value: (r) => formatPercent(r.skip_rate) },
    ],
    rows,
    'No song has five plays yet.',
  );
}

function renderOverview(o) {
  renderKpis(o);
  renderSources(o.sources);
  renderPlaysPerHour(o.playsPerHour);
  if (o.topTracks.length === 0) noData('topTracks', 'No plays in these dates.');
  else draw('topTracks', define.topTracks(o.topTracks));
  if (o.topArtists.length === 0) noData('topArtists', 'No plays in these dates.');
  else draw('topArtists', define.topArtists(o.topArtists));
  renderDeviceMix(o.deviceMix);
  renderCountryMix(o.countryMix);
  renderSessions(o);
  renderHourly(o.hourlyPreferences);
  if (o.artistSkipRates.length === 0) noData('artistSkipRates', 'No artist has five plays yet.');
  else draw('artistSkipRates', define.artistSkipRates(o.artistSkipRates));
  renderSongSkips(o.songSkipRates);
  renderPopularity(o.popularity);
}

function showEmpty(status) {
  document.body.dataset.state = 'empty';
  $('empty').hidden = false;
  $('span').textContent = 'Gold is empty';
  $('empty-detail').textContent = status.missingTables.length
    ? `Gold tables not built yet: ${status.missingTables.join(', ')}.`
    : 'The Gold tables exist but hold no plays yet.';
}

async function loadOverview() {
  document.body.dataset.state = 'loading';
  setLoading(true);
  const qs =
    state.from && state.to
      ? `?from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}`
      : '';
  let body;
  try {
    body = await api(`/api/overview${qs}`);
  } catch (err) {
    setLoading(false);
    document.body.dataset.state = 'error';
    showMessage(err.message, { error: true, retry: () => loadAll() });
    return false;
  }
  setLoading(false);
  if (body.status.empty) {
    showEmpty(body.status);
    return false;
  }
  $('empty').hidden = true;
  const { range } = body.status;
  state.range = range;
  const o = body.overview;
  for (const id of ['from', 'to']) {
    $(id).min = range.from;
    $(id).max = range.to;
  }
  $('from').value = o.range.from;
  $('to').value = o.range.to;
  $('span').textContent =
    `Gold holds ${formatDate(range.from)} – ${formatDate(range.to)} (UTC) · showing ${formatDate(o.range.from)} – ${formatDate(o.range.to)}`;
  renderOverview(o);
  if (o.totals.events === 0) {
    showMessage(
      `No listening between ${formatDate(o.range.from)} and ${formatDate(o.range.to)} (UTC). Gold has data from ${formatDate(range.from)} to ${formatDate(range.to)}.`,
    );
  } else {
    clearMessage();
  }
  document.body.dataset.state = 'ready';
  return true;
}

async function loadUsers(search = '') {
  const select = $('user-select');
  try {
    const { users } = await api(`/api/users?q=${encodeURIComponent(search)}`);
    select.replaceChildren(
      ...users.map((u) => h('option', { value: u.user_id }, `${u.user_id} · ${formatCount(u.plays)} plays`)),
    );
    if (users.length === 0) select.append(h('option', { disabled: '' }, 'No listener matches'));
    if (state.user) select.value = state.user;
    return users;
  } catch (err) {
    select.replaceChildren(h('option', { disabled: '' }, err.message));
    return [];
  }
}

function stat(label, value) {
  return h('div', {}, h('span', {}, label), h('b', {}, value));
}

/** A Wrapped period's name on the page: all_time, last_6_months, last_4_weeks, year_YYYY. */
function periodLabel(period) {
  if (period === 'all_time') return 'All time';
  if (period === 'last_6_months') return 'Last 6 months';
  if (period === 'last_4_weeks') return 'Last 4 weeks';
  return period.replace(/^year_/, '');
}

function disposeWrappedCharts() {
  for (const name of ['wrappedTopArtists', 'wrappedClock']) {
    charts[name]?.dispose();
    delete charts[name];
  }
}

async function loadWrapped(userId, period = state.period) {
  state.user = userId;
  state.period = period;
  saveUrl();
  $('user-select').value = userId;
  const body = $('wrapped-body');
  body.dataset.state = 'loading';
  body.dataset.user = userId;
  body.dataset.period = period;
  body.replaceChildren(h('div', { class: 'skeleton', style: 'height: 220px' }));
  let w;
  try {
    w = await api(`/api/wrapped/${encodeURIComponent(userId)}?period=${encodeURIComponent(period)}`);
  } catch (err) {
    if (state.user !== userId || state.period !== period) return;
    // Another listener may have no plays in the period picked for the previous one: show their all time.
    if (err.status === 404 && period !== 'all_time') return loadWrapped(userId, 'all_time');
    disposeWrappedCharts();
    body.dataset.state = err.status === 404 ? 'not-found' : 'error';
    body.replaceChildren(h('p', { class: 'message error', role: 'alert' }, err.message));
    return;
  }
  if (state.user !== userId || state.period !== period) return; // a later pick won the race
  const u = w.user;
  const current = w.periods.find((p) => p.period === period);
  const picker = h(
    'select',
    { id: 'wrapped-period', 'aria-label': 'Wrapped period' },
    w.periods.map((p) =>
      h(
        'option',
        { value: p.period, ...(p.period === period ? { selected: '' } : {}) },
        `${periodLabel(p.period)} · ${formatCount(p.plays)} plays`,
      ),
    ),
  );
  picker.addEventListener('change', () => loadWrapped(userId, picker.value));
  body.replaceChildren(
    h(
      'h3',
      { 'data-wrapped-user': u.user_id },
      `${u.user_id}`,
      h('small', {}, current ? `${current.start} – ${current.end} (listener's local days)` : ''),
    ),
    h('div', { class: 'period-picker' }, h('label', { for: 'wrapped-period' }, 'Period'), picker),
    h(
      'div',
      { class: 'hero' },
      stat('Listened', formatMinutes(u.minutes_listened)),
      stat('Streams', formatCount(u.streams)),
      stat('Songs · artists', `${formatCount(u.distinct_songs)} · ${formatCount(u.distinct_artists)}`),
      stat(
        'Longest streak',
        w.longestStreak
          ? `${formatCount(w.longestStreak.streak_length)} × ${w.longestStreak.artist_name}`
          : '–',
      ),
    ),
    h(
      'p',
      {},
      'Top artist ',
      h('b', {}, u.top_artist_name || '–'),
      ' · top song ',
      h('b', {}, u.top_song_name || '–'),
      ` · ${formatCount(u.plays)} plays · ${formatCount(w.sessions)} sessions (all time)`,
    ),
    h(
      'div',
      { class: 'wrapped-cols' },
      h('div', {}, h('h3', {}, 'Top artists'), h('div', { class: 'chart', id: 'chart-wrappedTopArtists' })),
      h(
        'div',
        {},
        h('h3', {}, 'Top tracks'),
        h('div', { class: 'table-wrap', id: 'table-wrappedTopTracks' }),
      ),
    ),
    h('h3', {}, 'Listening clock ', h('small', {}, "plays by the listener's local hour")),
    h('div', { class: 'chart', id: 'chart-wrappedClock' }),
  );
  disposeWrappedCharts();
  draw(
    'wrappedTopArtists',
    define.rankedBars(w.topArtists.map((r) => ({ name: r.artist_name, value: r.streams }))),
  );
  draw('wrappedClock', define.listeningClock(w.clock));
  table(
    'table-wrappedTopTracks',
    [
      { title: '#', num: true, value: (r) => r.rank },
      { title: 'Song', value: (r) => r.song_name },
      { title: 'Artist', value: (r) => r.artist_name },
      { title: 'Streams', num: true, value: (r) => formatCount(r.streams) },
    ],
    w.topTracks,
    'No tracks.',
  );
  body.dataset.state = 'ready';
}

async function loadAll() {
  clearMessage();
  const ok = await loadOverview();
  if (!ok) return;
  const users = await loadUsers($('user-search').value.trim());
  const first = state.user ?? users[0]?.user_id;
  if (first) await loadWrapped(first);
}

$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  const from = $('from').value;
  const to = $('to').value;
  if (!from || !to) return showMessage('Pick both a first and a last day.', { error: true });
  if (from > to) return showMessage('The first day is after the last day.', { error: true });
  state.from = from;
  state.to = to;
  saveUrl();
  loadOverview();
});
$('reset').addEventListener('click', () => {
  state.from = null;
  state.to = null;
  saveUrl();
  loadOverview();
});
$('retry-empty').addEventListener('click', () => loadAll());

let searchTimer;
$('user-search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadUsers($('user-search').value.trim()), 200);
});
$('user-search').addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  e.preventDefault();
  const id = $('user-search').value.trim();
  if (id) loadWrapped(id);
});
$('user-select').addEventListener('change', () => {
  if ($('user-select').value) loadWrapped($('user-select').value);
});
window.addEventListener('resize', () => {
  for (const c of Object.values(charts)) c.resize();
});

loadAll();
