// The worker-thread entry of the sweep pool: piscina calls the default export with one point.
import 'reflect-metadata';
import type { SweepPoint, SweepRecord } from './point';
import { runPoint } from './run-point';

export default function runPointTask(point: SweepPoint): SweepRecord {
  return runPoint(point);
}
