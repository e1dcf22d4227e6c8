/** Progress lines with rate and ETA on stderr, at most every `intervalMs` (and always at the end). */
export function progressReporter(label: string, intervalMs = 2000, write: (s: string) => void = (s) => process.stderr.write(s)) {
  const start = Date.now();
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - last < intervalMs) return;
    last = now;
    const el = (now - start) / 1000;
    const eta = done > 0 ? (el * (total - done)) / done : NaN;
    const pct = ((100 * done) / total).toFixed(1);
    write(`${label}: ${done}/${total} (${pct}%) elapsed ${formatSeconds(el)} eta ${done < total ? formatSeconds(eta) : '0s'}\n`);
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
