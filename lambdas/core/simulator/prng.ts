/**
 * Seeded randomness for the simulator: sfc32 (small, fast, passes PractRand to 2^40+) seeded through splitmix32,
 * so the same seed always yields the same stream. Math.random is never used: output must be reproducible.
 */
/** splitmix32's finalizer: a 32-bit value spread over all 32 bits (seed derivation, not a generator). */
export function mix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `stream` gives independent streams from one seed (catalog, behaviour, ids, faults). */
  constructor(seed: number, stream = 0) {
    // splitmix32 spreads a small integer seed over the 128-bit state; sfc32 then needs a few rounds to mix.
    let s = (seed >>> 0) ^ Math.imul(stream, 0x27d4eb2f);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      return mix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() ^ stream;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [min, max] (inclusive). */
  between(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** A standard normal variate (Box-Muller; one of the pair is enough here). */
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** An exponential variate with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
}

/**
 * Vose's alias table: O(1) sampling from a fixed discrete distribution. Zipf song popularity and user activity
 * are sampled once per event or session, so a binary search over cumulative weights would dominate the run time.
 */
export class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Uint32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('AliasTable needs at least one weight');
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i] as number;
    this.prob = new Float64Array(n);
    this.alias = new Uint32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = ((weights[i] as number) * n) / total;
      ((scaled[i] as number) < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.prob[s] = scaled[s] as number;
      this.alias[s] = l;
      scaled[l] = (scaled[l] as number) + (scaled[s] as number) - 1;
      ((scaled[l] as number) < 1 ? small : large).push(l);
    }
    // Whatever is left is 1 up to rounding error.
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  sample(rng: Prng): number {
    const x = rng.float() * this.prob.length;
    const i = Math.floor(x);
    return x - i < (this.prob[i] as number) ? i : (this.alias[i] as number);
  }
}

/**
 * Picks exactly `k` of `n` items in one pass, each subset equally likely (Knuth's selection sampling, algorithm S).
 * Fault counts are therefore exact, so the summary is known before the first record is generated.
 */
export class Selection {
  private remainingItems: number;
  private remainingPicks: number;

  constructor(k: number, n: number) {
    this.remainingPicks = k;
    this.remainingItems = n;
  }

  /** Whether the next item is picked. Must be called exactly once per item. */
  next(rng: Prng): boolean {
    if (this.remainingItems <= 0) return false;
    const picked = this.remainingPicks > 0 && rng.float() * this.remainingItems < this.remainingPicks;
    this.remainingItems--;
    if (picked) this.remainingPicks--;
    return picked;
  }
}
