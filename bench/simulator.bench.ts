/**
 * Simulator throughput on one core: events/s of serialized NDJSON (the record values, newline-joined into
 * 64 KiB chunks and encoded to UTF-8 bytes, as `mds simulate` writes them), against the 200,000 events/s target.
 * Also: the cost of JSON.stringify alone on the same events (the ratio shows what the simulation adds),
 * fault injection, and the whole CLI writing a file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { simulate, type SimulatorOptions } from '../lambdas/core/simulator/index.ts';

const TARGET = 200_000;
const N = 1_000_000;
const RUNS = 5;
const END = new Date('2026-11-23T12:00:00.000Z');
const START = new Date(END.getTime() - 6 * 3_600_000);
const CHUNK = 1 << 16;

interface Measure {
  /** Wall-clock seconds. */
  readonly seconds: number;
  /** CPU seconds of this process: with other work on the machine, the fair measure of "one core". */
  readonly cpuSeconds: number;
  readonly bytes: number;
}

function clock(): () => { seconds: number; cpuSeconds: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { seconds: (performance.now() - wall) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

/** Generates and serializes every record of a run into byte chunks, as the CLI does, without the I/O. */
function measureSimulator(options: SimulatorOptions): Measure {
  const stop = clock();
  let bytes = 0;
  let chunk = '';
  for (const record of simulate(options).records()) {
    chunk += record.value + '\n';
    if (chunk.length >= CHUNK) {
      bytes += Buffer.from(chunk).length;
      chunk = '';
    }
  }
  bytes += Buffer.from(chunk).length;
  return { ...stop(), bytes };
}

/** The same events as objects, serialized with JSON.stringify into the same chunks: the baseline. */
function measureStringify(events: readonly object[], passes: number): Measure {
  const stop = clock();
  let bytes = 0;
  let chunk = '';
  for (let pass = 0; pass < passes; pass++) {
    for (const event of events) {
      chunk += JSON.stringify(event) + '\n';
      if (chunk.length >= CHUNK) {
        bytes += Buffer.from(chunk).length;
        chunk = '';
      }
    }
  }
  bytes += Buffer.from(chunk).length;
  return { ...stop(), bytes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export default async function (): Promise<void> {
  const options: SimulatorOptions = { seed: 42, events: N, start: START, end: END };
  measureSimulator({ ...options, events: 100_000 }); // warm-up: JIT

  // The baseline serializes a quarter of the events four times: the same work without holding 1M objects.
  const events = [...simulate({ ...options, events: N / 4 }).records()].map(
    (r) => JSON.parse(r.value) as object,
  );
  const sim = { cpu: [] as number[], wall: [] as number[] };
  const base = { cpu: [] as number[], wall: [] as number[] };
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    // Alternate the two sides so that load from other processes hits both alike.
    const s = measureSimulator(options);
    const b = measureStringify(events, 4);
    sim.cpu.push(N / s.cpuSeconds);
    sim.wall.push(N / s.seconds);
    base.cpu.push(N / b.cpuSeconds);
    base.wall.push(N / b.seconds);
    bytes = s.bytes;
  }
  const simCpu = median(sim.cpu);
  const baseCpu = median(base.cpu);
  const faults = measureSimulator({
    ...options,
    duplicateFraction: 0.01,
    lateFraction: 0.01,
    invalidFraction: 0.01,
  });
  const heapMb = process.memoryUsage().heapUsed / 1e6;

  console.log(`events per run          ${fmt(N)} over 6 h, 1,000 users, 5,000 songs; ${RUNS} runs, medians`);
  console.log(`bytes per event         ${(bytes / N).toFixed(0)}`);
  console.log(
    `simulator -> NDJSON     ${fmt(simCpu)} events/s of CPU time (${((simCpu * bytes) / N / 1e6).toFixed(0)} MB/s); ` +
      `wall clock ${fmt(median(sim.wall))} events/s  runs (CPU): ${sim.cpu.map(fmt).join(', ')}`,
  );
  console.log(
    `target                  ${fmt(TARGET)} events/s on one core: ${simCpu >= TARGET ? 'MET' : 'NOT MET'} (x${(simCpu / TARGET).toFixed(2)})`,
  );
  console.log(
    `JSON.stringify only     ${fmt(baseCpu)} events/s of CPU time; wall clock ${fmt(median(base.wall))} (same events as objects, same chunking)`,
  );
  console.log(`ratio simulator/stringify ${(simCpu / baseCpu).toFixed(2)} (CPU time)`);
  console.log(`with 1% of each fault   ${fmt(N / faults.cpuSeconds)} events/s of CPU time (one run)`);
  console.log(
    `heap after runs         ${heapMb.toFixed(0)} MB (includes ${fmt(N / 4)} baseline event objects)`,
  );

  // The whole CLI, writing a file: its own figure excludes start-up (loading tsx and the commands).
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-bench-'));
  try {
    const out = path.join(dir, 'events.ndjson');
    const mds = fileURLToPath(new URL('../bin/mds.mjs', import.meta.url));
    const started = performance.now();
    const { stderr } = await promisify(execFile)(process.execPath, [
      ...[mds, 'simulate', '--events', String(N), '--end', END.toISOString(), '--out', out, '--json'],
    ]);
    const wall = (performance.now() - started) / 1000;
    const summary = JSON.parse(stderr) as { recordsPerSecond: number };
    const size = (await stat(out)).size;
    console.log(
      `mds simulate --out FILE ${fmt(summary.recordsPerSecond)} events/s in the command, ` +
        `${wall.toFixed(1)} s wall with start-up, ${(size / 1e6).toFixed(0)} MB written`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
