export * from './model';
export { recordScenario, type Recording } from './record';
export { snapshot, decodeRegister, keysToShow } from './snapshot';
export { toTraceEvents, type TraceEvent, type TraceFile, type TracePhase } from './trace-events';
export { tlbOf, type TlbArrays } from './tlb';
export { MachineTraceRecorder, recordingPlugin, TRACE_MAX_EVENTS } from './machine-recorder';
