// Types of options.js for the TypeScript side (the run report and the tests). An option is typed loosely
// here: this folder is browser code and imports no package, not even echarts' types; the report hands an
// option to echarts as its ChartOption.

/** An ECharts option, as echarts.setOption takes it. */
export type ChartOption = { readonly [key: string]: unknown };

export const COLOURS: readonly string[];
export const MAX_COUNTRIES: number;

export interface RankedRow {
  readonly name: string;
  readonly value: number | null;
  readonly [extra: string]: unknown;
}
export function rankedBars(
  rows: readonly RankedRow[],
  options?: {
    valueText?: (v: number) => string;
    axisText?: (v: number) => string;
    colour?: string;
  },
): ChartOption;

export function listeningClock(
  rows: readonly { readonly local_hour: number; readonly plays: number }[],
): ChartOption;
export function playsPerHour(
  rows: readonly { readonly hour_start: string; readonly plays: number; readonly skips?: number }[],
): ChartOption;
export function topTracks(
  rows: readonly {
    readonly song_name: string;
    readonly artist_name: string;
    readonly streams: number;
    readonly song_id?: string;
  }[],
): ChartOption;
export function topArtists(
  rows: readonly { readonly artist_name: string; readonly streams: number }[],
  options?: { colour?: string },
): ChartOption;
export function deviceMix(
  rows: readonly {
    readonly device_type: string;
    readonly events: number;
    readonly share_of_events: number;
  }[],
): ChartOption;
export function countryMix(
  rows: readonly { readonly country: string; readonly events: number; readonly share_of_events: number }[],
): ChartOption;
export function hourlyPreferences(
  rows: readonly {
    readonly hour_of_day: number;
    readonly plays: number;
    readonly skip_rate: number | null;
  }[],
): ChartOption;
export function artistSkipRates(
  rows: readonly {
    readonly artist_name: string;
    readonly plays: number;
    readonly skips: number;
    readonly skip_rate: number | null;
  }[],
): ChartOption;
export function popularity(
  rows: readonly {
    readonly bucket: string;
    readonly songs: number;
    readonly plays: number;
    readonly share_of_plays: number;
  }[],
): ChartOption;
export function stepSeconds(steps: Readonly<Record<string, number>>): ChartOption;
