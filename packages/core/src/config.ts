/** Architecture-neutral description of the machine to build. Plugins read their own `options`. */
export interface MachineConfig {
  /** The registered plugin name, e.g. "x86". */
  readonly arch: string;
  readonly cpus: number;
  /** Which domain features the CPUs enumerate. Both default to true. */
  readonly features?: {
    readonly userDomains?: boolean;
    readonly supervisorDomains?: boolean;
  };
  readonly memory?: {
    /** Bytes of RAM (frames are allocated lazily). */
    readonly ramBytes?: number;
    /** Bytes of persistent memory whose contents survive `reboot()`. */
    readonly persistentBytes?: number;
  };
  /** Plugin-specific settings (x86: `{ pagingLevels: 4 | 5 }`). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Default machine size: one CPU, 256 MiB of RAM, 64 MiB of persistent memory. */
export const DEFAULT_MACHINE_CONFIG = {
  cpus: 1,
  ramBytes: 256 * 1024 * 1024,
  persistentBytes: 64 * 1024 * 1024,
} as const;
