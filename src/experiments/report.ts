/** Markdown tables in the layout of the paper's Table 1: rows = method, columns = K. */
import type { ResultRow } from './resultsCsv.js';

export interface TableOptions {
  metric: string;
  digits?: number;
  /** bold the lowest value per column */
  boldMin?: boolean;
  withStderr?: boolean;
}

/** One table for the rows of a case and a metric. */
export function markdownTable(rows: readonly ResultRow[], opts: TableOptions): string {
  const digits = opts.digits ?? 3;
  const sel = rows.filter((r) => r.metric === opts.metric);
  const methods = [...new Set(sel.map((r) => String(r.method)))];
  const Ks = [...new Set(sel.map((r) => Number(r.K)))].sort((a, b) => a - b);
  const cell = (m: string, K: number) => sel.find((r) => r.method === m && Number(r.K) === K);
  const minPerK = new Map(Ks.map((K) => [K, Math.min(...sel.filter((r) => Number(r.K) === K).map((r) => Number(r.value)))]));
  const lines = [`| ${opts.metric} | ${Ks.map((K) => `K=${K}`).join(' | ')} |`, `|---|${Ks.map(() => '---').join('|')}|`];
  for (const m of methods) {
    const vals = Ks.map((K) => {
      const r = cell(m, K);
      if (!r) return '–';
      const v = Number(r.value);
      let s = Number.isFinite(v) ? v.toFixed(digits) : String(v);
      if (opts.withStderr && Number.isFinite(Number(r.stderr))) s += ` ± ${Number(r.stderr).toFixed(digits)}`;
      return opts.boldMin && v === minPerK.get(K) ? `**${s}**` : s;
    });
    lines.push(`| ${m} | ${vals.join(' | ')} |`);
  }
  return lines.join('\n');
}
