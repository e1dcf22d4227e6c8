/** Append one benchmark row to a CSV (header written when the file is new). */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';

export function appendCsv(path: string, row: Record<string, string | number>): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, stringify([row], { header: !existsSync(path), columns: Object.keys(row) }));
}
