import 'reflect-metadata';

export { SweepSpec, SeedsSpec, CostSetSpec, METRICS, MAX_POINTS, MAX_SEEDS, type Metric } from './spec';
export type { SweepSpecData, SweepSpecInput } from './spec';
export { loadSweep, parseSweep, SweepError, type SweepIssue, type LoadedSweep, type CostSet } from './load';
export { expandSweep, parseShard, shardPoints, type Expansion, type Shard } from './expand';
export { pointKey, recordLine, type SweepPoint, type SweepRecord } from './point';
export { canonicalJson } from './canonical';
export { runPoint, runPointTask } from './run-point';
export { SWEEP_CAMPAIGNS } from './campaigns';
export { PointPool, defaultWorkers, MAX_WORKERS } from './pool';
export { runPoints, type RunOptions, type RunOutcome } from './run';
export { ResultsWriter, ResultsError, readResults, mergeRecords, resultsText, writeFileAtomic } from './results';
export { recordsCsv } from './csv';
export { summarize, slope, tQuantile975, type Summary } from './stats';
export {
  buildReport,
  formatReport,
  checkAxes,
  varyingAxes,
  REPORT_AXES,
  CI_METHOD,
  type SweepReport,
  type ReportGroup,
  type Sensitivity,
} from './report';
export {
  runOnQueue,
  runQueueWorker,
  redisConnection,
  DEFAULT_QUEUE_NAME,
  QueueUnreachable,
  probeRedis,
  CONNECT_TIMEOUT_MS,
  type EnqueueOptions,
  type WorkerOptions,
} from './queue';
export { sweepJsonSchema, sweepJsonSchemaText, SWEEP_SCHEMA_FILE } from './json-schema';
