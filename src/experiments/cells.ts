/** Expand a case's sweep into cells (method x K) with their concrete trajectories. */
import type { Schedule } from '../core/schedule.js';
import { evenTrajectory, quadTrajectory, explicitTrajectory } from '../core/trajectory.js';
import { optimalTrajectory, type BadTailRule } from '../estimators/optimalTrajectory.js';
import type { CaseSpec, MethodSpec } from './schema.js';

export interface Cell {
  method: MethodSpec;
  K: number;
  trajectoryName: string;
  steps: number[];
  /** what this cell measures: the method's metrics, less fid (and accuracy, measured on the same samples) when K is outside the case's fid.K */
  metrics: Array<'nll' | 'fid' | 'accuracy' | 'ode-nll'>;
}

/** Concrete steps of a method's trajectory at K (explicit lists ignore K). */
export function trajectorySteps(m: MethodSpec, K: number, sch: Schedule, msEps: ArrayLike<number>, badTail: BadTailRule = 'split'): number[] {
  if (Array.isArray(m.trajectory)) return explicitTrajectory(sch.N, m.trajectory);
  if (m.trajectory === 'even') return evenTrajectory(sch.N, K);
  if (m.trajectory === 'quad') return quadTrajectory(sch.N, K);
  return optimalTrajectory(sch, msEps, K, badTail).steps;
}

/** Metrics of a method at K: fid and accuracy only at the case's fid.K (all K when fid.K is absent; explicit trajectories always), ode-nll once. */
export function cellMetrics(c: CaseSpec, m: MethodSpec, K: number): Array<'nll' | 'fid' | 'accuracy' | 'ode-nll'> {
  const fidHere = !c.fid?.K || Array.isArray(m.trajectory) || c.fid.K.includes(K);
  // the ODE likelihood does not depend on K: once per method, at the sweep's first K
  return m.metrics.filter((x) => x === 'nll' || (x === 'ode-nll' ? K === c.sweep.K[0] || Array.isArray(m.trajectory) : fidHere));
}

export function expandCells(c: CaseSpec, sch: Schedule, msEps: ArrayLike<number>): Cell[] {
  const cells: Cell[] = [];
  for (const method of c.sweep.methods) {
    const Ks = Array.isArray(method.trajectory) ? [method.trajectory.length] : c.sweep.K;
    for (const K of Ks) {
      const metrics = cellMetrics(c, method, K);
      if (metrics.length === 0) continue;
      const name = Array.isArray(method.trajectory) ? 'explicit' : method.trajectory;
      cells.push({ method, K, trajectoryName: name, steps: trajectorySteps(method, K, sch, msEps, c.msEps.otBadTail), metrics });
    }
  }
  return cells;
}

/** Every timestep any cell visits. */
export function unionOfSteps(cells: readonly Cell[]): number[] {
  return [...new Set(cells.flatMap((c) => c.steps))].sort((a, b) => a - b);
}
