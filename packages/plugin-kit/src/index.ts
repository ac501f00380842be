import 'reflect-metadata';

// The contract a plugin implements, re-exported so a plugin can depend on the kit alone.
export {
  ACCESS_OK,
  AccessKind,
  Privilege,
  Deny,
  DENY_ALL_FLAGS,
  DomainError,
  isDomainError,
  EventCounters,
  MachineEvent,
  PageSize,
  TOKENS,
  registerPlugin,
  definePlugin,
  getPlugin,
  listPlugins,
  createMachine,
  rightsState,
  rightsStateEqual,
  formatRightsState,
  denialsSupported,
  formatDenials,
  USER_PKEY_ABI,
} from '@pkeysim/core';
export type {
  AccessFault,
  AddressSpaceId,
  ContextSave,
  Denials,
  DomainErrorCode,
  DomainSpace,
  DomainSpaceInfo,
  FaultCause,
  Machine,
  MachineConfig,
  MappingAttributes,
  PluginDefinition,
  ProtectionPlugin,
  ReservedDomain,
  RightsScope,
  RightsState,
  SwitchCost,
  Translation,
  UserPkeyAbi,
  UserPkeySignalAbi,
  UserPkeySelftestAbi,
  ExecuteOnlyKey,
} from '@pkeysim/core';

export { ForwardingMachine } from './forwarding-machine';
export { SparseRights, SPARSE_MAX_DOMAIN } from './sparse-rights';
export { PageMap } from './page-map';
// The conformance suite has entry points of its own, so importing the kit loads no test tooling:
// `@pkeysim/plugin-kit/conformance` (framework-free) and `@pkeysim/plugin-kit/vitest`.
