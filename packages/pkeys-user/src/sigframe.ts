import { type RightsState, rightsState } from '@pkeysim/core';

/** What a signal handler is told (siginfo_t: si_signo, si_code, si_addr, si_pkey). */
export interface SigInfo {
  readonly signo: number;
  readonly code: number;
  /** si_addr for faults. */
  readonly addr?: number;
  /** si_pkey for SEGV_PKUERR. */
  readonly pkey?: number;
}

/** The sigaltstack a frame records (uc_stack), restored by sigreturn. */
export interface AltStack {
  readonly sp: number;
  readonly size: number;
  readonly flags: number;
}

/** The decoded contents of an rt_sigframe: siginfo, ucontext (sp, mask, uc_stack) and the XSAVE PKRU slot. */
export interface SigFrameContents {
  readonly info: SigInfo;
  readonly savedSp: number;
  readonly blocked: number;
  readonly altstack: AltStack | undefined;
  readonly pkru: RightsState | undefined;
}

/**
 * pkeysim's rt_sigframe layout (x86-64's is larger; the fields are the ones that matter here):
 * siginfo at 0, the ucontext's sp and signal mask at 24, uc_stack at 40, and the XSAVE area at 64
 * with the rights words where XSAVE component 9 (PKRU) would be.
 */
export const SIGFRAME_SIZE = 0x300;
export const UC_STACK_OFFSET = 40;
export const UC_STACK_SIZE = 24;
export const XSAVE_PKRU_OFFSET = 64;
const MAX_RIGHTS_WORDS = 8;
/** The x86-64 ABI's 128-byte red zone below sp, which a frame must not overwrite (get_sigframe). */
export const RED_ZONE = 128;
const FRAME_ALIGN = 64;

export function frameAddressBelow(sp: number): number {
  return Math.floor((sp - SIGFRAME_SIZE) / FRAME_ALIGN) * FRAME_ALIGN;
}

export function encodeFrame(c: SigFrameContents): Uint8Array {
  const bytes = new Uint8Array(SIGFRAME_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, c.info.signo, true);
  v.setInt32(4, c.info.code, true);
  v.setFloat64(8, c.info.addr ?? 0, true);
  v.setInt32(16, c.info.pkey ?? -1, true);
  v.setFloat64(24, c.savedSp, true);
  v.setUint32(32, c.blocked >>> 0, true);
  encodeAltstack(v, UC_STACK_OFFSET, c.altstack);
  v.setUint32(XSAVE_PKRU_OFFSET, c.pkru === undefined ? 0xffffffff : c.pkru.length, true);
  c.pkru?.forEach((w, i) => v.setUint32(XSAVE_PKRU_OFFSET + 4 + 4 * i, w >>> 0, true));
  return bytes;
}

export function encodeRights(state: RightsState): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * state.length);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, state.length, true);
  state.forEach((w, i) => v.setUint32(4 + 4 * i, w >>> 0, true));
  return bytes;
}

export function encodeAltstack(v: DataView, offset: number, stack: AltStack | undefined): void {
  v.setFloat64(offset, stack?.sp ?? 0, true);
  v.setFloat64(offset + 8, stack?.size ?? 0, true);
  v.setUint32(offset + 16, stack?.flags ?? 0, true);
}

export function decodeAltstack(bytes: Uint8Array, offset = 0): AltStack | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = v.getFloat64(offset + 8, true);
  return size === 0 ? undefined : { sp: v.getFloat64(offset, true), size, flags: v.getUint32(offset + 16, true) };
}

/** Decode a frame read back from user memory; undefined when the XSAVE area is malformed (badframe). */
export function decodeFrame(bytes: Uint8Array): SigFrameContents | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = v.getUint32(XSAVE_PKRU_OFFSET, true);
  let pkru: RightsState | undefined;
  if (words !== 0xffffffff) {
    if (words > MAX_RIGHTS_WORDS) return undefined;
    const list: number[] = [];
    for (let i = 0; i < words; i++) list.push(v.getUint32(XSAVE_PKRU_OFFSET + 4 + 4 * i, true));
    pkru = rightsState(...list);
  }
  const pkey = v.getInt32(16, true);
  return {
    info: {
      signo: v.getUint32(0, true),
      code: v.getInt32(4, true),
      addr: v.getFloat64(8, true),
      pkey: pkey < 0 ? undefined : pkey,
    },
    savedSp: v.getFloat64(24, true),
    blocked: v.getUint32(32, true),
    altstack: decodeAltstack(bytes, UC_STACK_OFFSET),
    pkru,
  };
}
