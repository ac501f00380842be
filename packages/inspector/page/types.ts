// The data shapes, as type-only imports: nothing of the simulator is bundled into the page.
export type {
  CpuView,
  KeyRow,
  RegisterView,
  StepState,
  ThreadView,
  Timeline,
  TlbEntryView,
  MappingView,
  TraceEvent,
} from '@pkeysim/timeline';
import type { Timeline } from '@pkeysim/timeline';
export type RunEventJson = Timeline['events'][number];
