// Types of format.js for the TypeScript side (the run report and the tests).
export function formatCount(value: number | null | undefined): string;
export function formatMinutes(minutes: number | null | undefined): string;
export function formatPercent(ratio: number | null | undefined): string;
export function formatSeconds(seconds: number): string;
export function formatDate(iso: string): string;
export function formatDateTime(iso: string): string;
export function formatHourLabel(iso: string): string;
