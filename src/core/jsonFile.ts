/** Read a JSON file with errors that name the kind of file, its path and the problem. */
import { existsSync, readFileSync } from 'node:fs';

export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new Error(`${what} ${path} does not exist`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}
