/**
 * Append one benchmark row to a CSV (header written when the file is new). When the row has columns the file's
 * header lacks (e.g. `workers`, added after the first runs), the file is rewritten once with the new columns
 * appended to the header and the old rows filled from `defaults` (or left empty); existing columns keep their
 * positions, so readers that index the old columns are unaffected.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

type Row = Record<string, string | number>;

export function appendCsv(path: string, row: Row, defaults: Row = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path) || readFileSync(path, 'utf8').trim() === '') {
    writeFileSync(path, stringify([row], { header: true, columns: Object.keys(row) }));
    return;
  }
  const text = readFileSync(path, 'utf8');
  const header = parse(text, { to_line: 1 })[0] as string[];
  const added = Object.keys(row).filter((k) => !header.includes(k));
  const columns = [...header, ...added];
  if (added.length > 0) migrate(path, text, columns, defaults);
  appendFileSync(path, stringify([row], { header: false, columns }));
}

/** Rewrite the file (temp file + rename) with the wider header; old rows get the defaults of the new columns. */
function migrate(path: string, text: string, columns: string[], defaults: Row): void {
  const rows = (parse(text, { columns: true, skip_empty_lines: true }) as Row[]).map((r) => ({ ...defaultsFor(columns, defaults), ...r }));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, stringify(rows, { header: true, columns }));
  renameSync(tmp, path);
}

function defaultsFor(columns: string[], defaults: Row): Row {
  return Object.fromEntries(columns.map((c) => [c, defaults[c] ?? '']));
}
