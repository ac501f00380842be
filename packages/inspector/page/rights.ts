import { esc } from './dom';
import type { RegisterView } from './types';

/** Class of a rights string ("rw", "r-", "--", "rwx", "-w"): open, read-only, closed or partial. */
export function rightsClass(rights: string): string {
  if (/^rw/.test(rights)) return 'open';
  if (/^r-/.test(rights)) return 'readonly';
  if (/^--/.test(rights)) return 'closed';
  return 'partial';
}

/** A register: its value as the plugin formats it, then one chip per key with the decoded rights. */
export function registerHtml(
  view: RegisterView,
  options: { owner: (key: number) => string; previous?: RegisterView | null; testid?: string },
): string {
  const chips = view.keys
    .map((k) => {
      const was = options.previous?.keys.find((x) => x.key === k.key);
      const changed = was && was.rights !== k.rights ? ' changed' : '';
      const owner = options.owner(k.key);
      return `<span class="key ${rightsClass(k.rights)}${changed}" data-key="${k.key}" data-rights="${esc(k.rights)}" title="key ${k.key}${esc(owner)}: ${esc(k.rights)}${was && changed ? ` (was ${esc(was.rights)})` : ''}"><b>${k.key}</b>${esc(k.rights)}</span>`;
    })
    .join('');
  const id = options.testid ? ` data-testid="${options.testid}"` : '';
  return `<div class="register"${id} data-register="${esc(view.register)}"><span class="reg-name">${esc(view.register)}</span> <code class="reg-value">${esc(view.value)}</code><div class="keys">${chips}</div></div>`;
}
