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

/** The Adullact launcher's own options, as the definition schema gives them (with its defaults). */
export function adullactOptions(launcher: LauncherOf<'adullact'>): AdullactLauncherOptions {
  return { requireEndMarker: launcher.requireEndMarker ?? DEFAULT_REQUIRE_END_MARKER };
}
