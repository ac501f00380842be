// The exception frame is declared beside the thread whose stack holds it (sched/thread.ts), because
// each refers to the other; this module is where the entry code and its users find it.
export { ExceptionFrame, type PtRegsAuxiliary } from '../sched/thread';
export { describeFrame, type FrameKind } from './frame-kind';
