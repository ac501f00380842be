export {
  BtrfsDebug,
  BTRFS_DEBUG_KEY,
  BTRFS_DEBUG_MODES,
  type BtrfsDebugMode,
  type BtrfsDebugOptions,
  type BtrfsDebugReport,
  type WatchedRange,
} from './debug';
