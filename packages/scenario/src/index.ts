import 'reflect-metadata';

export * from './schema';
export {
  parseScenario,
  parseCosts,
  formatIssue,
  formatPath,
  ScenarioError,
  SourceMap,
  type LoadedScenario,
  type ScenarioIssue,
  type PathSegment,
} from './load';
export { runScenario, RIGHTS_DENIALS, type RunOptions, type RunResult, type RunView } from './run';
export type { Failure, FaultRecord, MemoryTarget } from './context';
export { formatEvent, type At, type RunEvent, type RunEventType } from './events';
export { ObservedMachine, type MachineObserver } from './observe';
export { costModel, costReport, formatCostReport, type CostReport, type EventCost } from './costs';
export { scenarioJsonSchema, scenarioJsonSchemaText, JSON_SCHEMA_FILE } from './json-schema';
export { DEFAULT_LIMITS, LIMIT_CEILING, LIMIT_FLAGS, budgetMessage, resolveLimits, type Limits } from './limits';
export { capIssues, dataDepth, ISSUE_CAP, REPEATED_ISSUE_CAP, type LoadOptions } from './load';
