/**
 * The JSONL vector format of the reference set (access vectors and "insn" vectors), validated with
 * zod: every field, its type and its range; optional fields default to 0; unknown fields rejected.
 */
import { z } from 'zod';

const bit = z.union([z.literal(0), z.literal(1)]);
const u32 = z.number().int().min(0).max(0xffffffff);
const cpl = z.union([z.literal(0), z.literal(3)]);
const id = z.string().min(1);

const accessResult = z.strictObject({
  fault: z.boolean(),
  error_code: z.number().int().min(0).max(0xffff).nullable(),
});

/** Schema of an access vector: CPU mode, page attributes, key rights, the access and the expected result. */
export const accessVectorSchema = z.strictObject({
  kind: z.literal('access').optional(),
  id,
  paging: z.union([z.literal(4), z.literal(5)]),
  cpl,
  cr0_wp: bit,
  cr4_pke: bit,
  cr4_pks: bit,
  cr4_smep: bit.default(0),
  cr4_smap: bit.default(0),
  eflags_ac: bit.default(0),
  page: z.strictObject({
    user: bit,
    write: bit,
    nx: bit,
    pkey: z.number().int().min(0).max(15),
    size: z.enum(['4K', '2M', '1G']),
  }),
  pkru: u32,
  pkrs: u32,
  access: z.enum(['read', 'write', 'fetch']),
  result: accessResult.optional(),
});

const insnResult = z.strictObject({
  exception: z.enum(['#UD', '#GP']).nullable(),
  pkru: u32,
  pkrs: u32,
  eax: u32.optional(),
  edx: u32.optional(),
});

/** Schema of an "insn" vector: an instruction run in a given CPU state and, optionally, its expected result. */
export const insnVectorSchema = z
  .strictObject({
    kind: z.literal('insn'),
    id,
    cpu: z.strictObject({ pku: bit, pks: bit }).default({ pku: 1, pks: 1 }),
    cpl,
    cr4_pke: bit,
    cr4_pks: bit,
    pkru: u32,
    pkrs: u32,
    insn: z.enum(['wrpkru', 'rdpkru', 'wrmsr', 'rdmsr', 'mov_cr4']),
    eax: u32.default(0),
    ecx: u32.default(0),
    edx: u32.default(0),
    result: insnResult.optional(),
  })
  .superRefine((v, ctx) => {
    // A CR4 bit for a feature the CPU does not enumerate cannot be set (MOV to CR4 would #GP).
    if (v.cr4_pke === 1 && v.cpu.pku === 0)
      ctx.addIssue({ code: 'custom', path: ['cr4_pke'], message: 'CR4.PKE=1 needs cpu.pku=1' });
    if (v.cr4_pks === 1 && v.cpu.pks === 0)
      ctx.addIssue({ code: 'custom', path: ['cr4_pks'], message: 'CR4.PKS=1 needs cpu.pks=1' });
  });

/** An access vector, as validated (defaults filled in). */
export type X86AccessVector = z.output<typeof accessVectorSchema>;
/** An "insn" vector, as validated (defaults filled in). */
export type X86InsnVector = z.output<typeof insnVectorSchema>;
/** Any vector of the reference set. */
export type X86Vector = X86AccessVector | X86InsnVector;

/** True when the vector is an "insn" vector. */
export function isInsnVector(vector: X86Vector): vector is X86InsnVector {
  return vector.kind === 'insn';
}
