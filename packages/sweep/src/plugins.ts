// Importing every built-in architecture and scheme package registers its plugin, so a sweep's
// `schemes` can name any of them, in the main thread and in every worker thread alike.
import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import '@pkeysim/scheme-pagetable';
import '@pkeysim/scheme-vkeys';
import { listPlugins } from '@pkeysim/core';

/** The registered plugin names a sweep's `schemes` may use. */
export function schemeNames(): string[] {
  return listPlugins().map((p) => p.name);
}
