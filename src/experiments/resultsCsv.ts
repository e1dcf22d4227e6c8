/** Long-format results CSV with a fixed header (one row per cell and metric), appended cell by cell. */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';

export const RESULT_COLUMNS = [
  'experiment', 'case', 'data', 'model', 'schedule', 'N', 'method', 'sampler', 'variance', 'eta', 'trajectory',
  'K', 'steps', 'clip_pixel', 'metric', 'value', 'stderr', 'n', 'seed', 'backend',
] as const;

export type ResultRow = Record<(typeof RESULT_COLUMNS)[number], string | number>;

/** Append rows; writes the header first when the file is new. Values are written at full precision. */
export function appendRows(path: string, rows: readonly ResultRow[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const header = !existsSync(path);
  appendFileSync(path, stringify(rows as ResultRow[], { header, columns: [...RESULT_COLUMNS] }));
}

/** Read rows back (for resume, merge and reports); checks the header. */
export function readRows(path: string): ResultRow[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as ResultRow[];
  const first = text.split('\n', 1)[0].trim();
  if (first !== RESULT_COLUMNS.join(',')) {
    throw new Error(`${path}: unexpected CSV header; expected ${RESULT_COLUMNS.join(',')}`);
  }
  return rows;
}

/** Replace the file's rows (atomically: temp file + rename). */
export function rewriteRows(path: string, rows: readonly ResultRow[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, stringify(rows as ResultRow[], { header: true, columns: [...RESULT_COLUMNS] }));
  renameSync(tmp, path);
}
