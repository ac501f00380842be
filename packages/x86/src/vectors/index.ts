export { parseVector, type VectorIssue, type ParsedVector } from './parse';
export { runVector, compareVector, type VectorOutput } from './run';
export { SAMPLE_VECTORS_PATH } from './sample-path';
export {
  accessVectorSchema,
  insnVectorSchema,
  isInsnVector,
  type X86Vector,
  type X86AccessVector,
  type X86InsnVector,
} from './schema';
