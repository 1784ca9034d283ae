// Number and date formatting for people, shared by the dashboard page (served as an ES module) and the static
// run report (imported from TypeScript through format.d.ts), so both say the same thing the same way.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** 1234567 -> "1,234,567"; null/undefined/NaN -> "–". */
export function formatCount(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
  return integer.format(Number(value));
}

/** Minutes under 100 hours read as "1,234 min"; longer totals as "123.4 h". */
export function formatMinutes(minutes) {
  if (minutes === null || minutes === undefined || Number.isNaN(Number(minutes))) return '–';
  const m = Number(minutes);
  if (m < 6000) return `${integer.format(m)} min`;
  return `${oneDecimal.format(m / 60)} h`;
}

/** A 0..1 ratio as a percentage with one decimal: 0.1234 -> "12.3%". */
export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return '–';
  return `${oneDecimal.format(Number(ratio) * 100)}%`;
}

/** Seconds as "0.4 s", "12.3 s" or "2 min 5 s". */
export function formatSeconds(seconds) {
  const s = Number(seconds);
  if (Number.isNaN(s)) return '–';
  if (s < 60) return `${oneDecimal.format(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** 'YYYY-MM-DD' or an ISO timestamp -> "23 Nov 2026" (the UTC calendar date). */
export function formatDate(iso) {
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** An ISO timestamp -> "23 Nov 2026 14:05 UTC": always UTC, always labelled. */
export function formatDateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${formatDate(iso)} ${hh}:${mm} UTC`;
}

/** An ISO timestamp -> "23 Nov 14:00", the short label of an hourly axis (UTC). */
export function formatHourLabel(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCHours()).padStart(2, '0')}:00`;
}
