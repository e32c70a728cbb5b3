import type { LauncherOf } from '../../config/schema';

/** Default of `requireEndMarker`: without its marker, a folder is taken once unchanged for `delaySeconds`. */
export const DEFAULT_REQUIRE_END_MARKER = false;

/** Options of the Adullact launcher that the source reads beyond the common fields. */
export interface AdullactLauncherOptions {
  /**
   * Take a folder envelope only once its end marker is there (Pastell's
   * `fichier_termine.txt`, written last), never on `delaySeconds` alone. Zips have no
   * marker (Pastell writes none in zip mode): they are still taken once unchanged.
   */
  requireEndMarker: boolean;
}

/**
 * The Adullact launcher's own options with their defaults. `requireEndMarker` is read
 * from the definition when the definition schema declares it (shared/config/schema.ts);
 * until then the default applies (and the strict schema refuses the field).
 */
export function adullactOptions(launcher: LauncherOf<'adullact'>): AdullactLauncherOptions {
  const given = launcher as LauncherOf<'adullact'> & Partial<AdullactLauncherOptions>;
  return { requireEndMarker: given.requireEndMarker ?? DEFAULT_REQUIRE_END_MARKER };
}
