import { Deny, type Denials } from '@pkeysim/core';
import { TraceAccessKind } from './access-kind';

/**
 * Whether a domain with `denials` makes an access of `kind` fault. Every lackey access is a user-mode
 * access (valgrind runs user programs), so x86's CR0.WP exception for supervisor writes never applies.
 */
export function deniesAccess(denials: Denials, kind: TraceAccessKind): boolean {
  switch (kind) {
    // x86 never checks fetches against keys (Intel SDM vol. 3 4.6.2); an execute denial stops them
    // where one exists (arm64 POE Perm X, POWER IAMR; Linux PKEY_DISABLE_EXECUTE).
    case TraceAccessKind.Fetch:
      return (denials & Deny.Execute) !== 0;
    // AD: every data read faults (SDM vol. 3 4.6.2); arm64 POE can deny reads alone (PKEY_DISABLE_READ).
    case TraceAccessKind.Load:
      return (denials & (Deny.Access | Deny.Read)) !== 0;
    // AD or WD: user-mode writes fault (SDM vol. 3 4.6.2).
    case TraceAccessKind.Store:
      return (denials & (Deny.Access | Deny.Write)) !== 0;
    // lackey's M is one instruction reading and writing the same bytes: it faults if either part would.
    case TraceAccessKind.Modify:
      return deniesAccess(denials, TraceAccessKind.Load) || deniesAccess(denials, TraceAccessKind.Store);
  }
}
