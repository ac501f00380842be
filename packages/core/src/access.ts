/**
 * What an access is and who makes it. These are plain numbers so that the hot path can pass them
 * around without allocating.
 */

/** The kind of a memory access. */
export const AccessKind = {
  Read: 0,
  Write: 1,
  /** An instruction fetch. */
  Fetch: 2,
} as const;
export type AccessKind = (typeof AccessKind)[keyof typeof AccessKind];

/** The privilege of the code making an access, or of the pages a domain space governs. */
export const Privilege = {
  User: 0,
  Supervisor: 1,
} as const;
export type Privilege = (typeof Privilege)[keyof typeof Privilege];

/** The lower-case name of an access kind, as used in reports and traces. */
export function accessKindName(kind: AccessKind): 'read' | 'write' | 'fetch' {
  return kind === AccessKind.Read ? 'read' : kind === AccessKind.Write ? 'write' : 'fetch';
}

/** The lower-case name of a privilege level, as used in reports and traces. */
export function privilegeName(privilege: Privilege): 'user' | 'supervisor' {
  return privilege === Privilege.User ? 'user' : 'supervisor';
}
