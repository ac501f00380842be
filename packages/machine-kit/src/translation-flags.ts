/**
 * The cached form of a translation: one Int32 per TLB entry, the same layout for every architecture.
 * A codec turns a leaf descriptor into base permissions for both privileges; the engine adds the
 * leaf size and the domain tag. Rights are NEVER part of it: they are read from the architecture's
 * rights register at every access, which is why a rights write needs no TLB flush.
 */

/** Privileged (EL1, supervisor, kernel) read/write/execute allowed by the base permissions. */
export const TF_PRIV_READ = 1 << 0;
/** Privileged write allowed by the base permissions. */
export const TF_PRIV_WRITE = 1 << 1;
/** Privileged execute allowed by the base permissions. */
export const TF_PRIV_EXEC = 1 << 2;
/** Unprivileged (EL0, problem state, user) read/write/execute allowed by the base permissions. */
export const TF_USER_READ = 1 << 3;
/** Unprivileged write allowed by the base permissions. */
export const TF_USER_WRITE = 1 << 4;
/** Unprivileged execute allowed by the base permissions. */
export const TF_USER_EXEC = 1 << 5;
/** The page is a user page (core Translation.user). */
export const TF_USER = 1 << 6;
/** Survives an address-space switch (not flushed by activate). */
export const TF_GLOBAL = 1 << 7;
/** Leaf level: 0 = base page, 1 = one level up (2 MiB with 9-bit levels), ... */
export const TF_LEVEL_SHIFT = 8;
/** The leaf-level field (two bits at {@link TF_LEVEL_SHIFT}). */
export const TF_LEVEL_MASK = 3 << TF_LEVEL_SHIFT;
/** Six bits a codec may use for its own purposes. */
export const TF_ARCH_SHIFT = 10;
/** The codec-defined bits (six bits at {@link TF_ARCH_SHIFT}). */
export const TF_ARCH_MASK = 0x3f << TF_ARCH_SHIFT;
/** The domain tag (up to 8 bits). */
export const TF_DOMAIN_SHIFT = 16;
/** The domain-tag field (eight bits at {@link TF_DOMAIN_SHIFT}). */
export const TF_DOMAIN_MASK = 0xff << TF_DOMAIN_SHIFT;

/**
 * The leaf's dirty state as cached: a write through an entry without it walks again so the walk can
 * set the leaf's dirty bit (Intel SDM 4.8). The engine sets it on every leaf of a codec that does not
 * manage accessed/dirty bits, so only architectures that do pay the re-walk.
 */
export const TF_DIRTY = 1 << 24;

/** Every base-permission bit. */
export const TF_PERMISSIONS = TF_PRIV_READ | TF_PRIV_WRITE | TF_PRIV_EXEC | TF_USER_READ | TF_USER_WRITE | TF_USER_EXEC;

/** The domain tag of a cached translation. */
export function translationDomain(flags: number): number {
  return (flags >>> TF_DOMAIN_SHIFT) & 0xff;
}

/** The leaf level of a cached translation (0 = base page). */
export function translationLevel(flags: number): number {
  return (flags & TF_LEVEL_MASK) >>> TF_LEVEL_SHIFT;
}
