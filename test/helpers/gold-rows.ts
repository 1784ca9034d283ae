/**
 * Every Gold table of a warehouse as comparable rows, for comparing two engines on the same events: read
 * through the Warehouse port (numbers as numbers, timestamps as ISO strings on every engine), floats rounded
 * to 9 significant digits (sums add up in another order on another engine), each table's rows sorted.
 */
import { GOLD_TABLES } from '../../dashboard/gold.ts';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';

export async function goldRows(wh: Pick<Warehouse, 'query'>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of GOLD_TABLES) {
    const rows = await wh.query(`select * from gold.${table}`);
    out[table] = rows
      .map((row) =>
        JSON.stringify(
          Object.keys(row)
            .sort()
            .map((k) => [k, canonical(row[k])]),
        ),
      )
      .sort();
  }
  return out;
}

function canonical(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && !Number.isInteger(v)) return Number(v.toPrecision(9));
  if (v instanceof Date) return v.toISOString();
  return v;
}
