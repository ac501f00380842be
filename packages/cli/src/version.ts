import { cliPackage } from './package-root';

/** The package version, read from package.json at run time, so a release bump needs no code change. */
export function cliVersion(): string {
  return cliPackage()?.version ?? 'unknown';
}
