import 'reflect-metadata';

export * from './config';
export * from './errors';
export * from './layout';
export * from './prng';
export * from './log';
export * from './oops';
export { Kernel } from './kernel';
export { KERNEL_CONFIG } from './tokens';
export { createKernel } from './create-kernel';
export { Cpu, type AccessResult, type ReadResult } from './cpu';
export { ExceptionFrame, type FrameKind, type PtRegsAuxiliary, describeFrame } from './entry/frame';
export { type KeyFaultCallback, PKS_FLAG_EXCLUSIVE, rightsName } from './keys/key-table';
export * from './keys/pks-version';
export { type KeyListing, type KeyListingRow, formatKeyListing } from './keys/pks-keys';
export { PKS_PROT_MASK } from './rights/protection';
export { MAX_HANDLED_FAULTS } from './fault';
export type { Thread, ThreadKind, ThreadState, KmapEntry } from './sched/thread';
export { describeThread } from './sched/thread';
export {
  Scheduler,
  type ThreadBody,
  type ThreadContext,
  type InterruptHandler,
  SchedAction,
  type SchedEvent,
  type SchedulerOptions,
} from './sched/scheduler';
export type { AllocPagesOptions, VmapOptions } from './mm/memory';
export {
  PKS_TESTS,
  PksTestModule,
  runPksSelftest,
  runPksSeriesSelftest,
  formatTestResult,
  type PksTestResult,
  type PksTestStatus,
} from './selftest/pks-test';
export { PKS_TEST_MODULES, pksTestModuleOf, type PksTestCase, type PksTestKind } from './selftest/pks-modules';
export { runInterruptInWindow, type InterruptInWindowResult } from './scenarios/interrupt-in-window';
export type * from './campaign';
export { acquireConsumerKey, relaxReadFault, type ConsumerKey, type KeyUnavailableReason } from './consumer-key';
export { KM_MAX_IDX, kmapHooks, type KmapHook, type KmapHookPoints, type KmapKind } from './mm/kmap';
export { MAX_ENTRY_DEPTH } from './entry/entry-code';
export { campaignCost, snapshotEvents, SWITCH_COST_EVENTS, type CampaignCost } from './campaign-cost';
export * from './user-tasks';
export { type ContextSwitchHook } from './sched/sched';
export { StrayTally, type StraySummary } from './campaign-tally';
export { CAMPAIGN_MAX_STEPS, campaignSpawner, runMeasuredCampaign } from './campaign-run';
export { StrayCampaign, type StrayCampaignSetup, type StrayStarter } from './campaign-stray';
export * from './kmap-api';
export { protectIdentityMap, type IdentityMapProtection } from './mm/identity-map';
export { CAMPAIGN_LIMITS, STRAYS_PER_WORKER, campaignMaxSteps, campaignSize, type CampaignSize } from './campaign-size';
