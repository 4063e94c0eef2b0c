/**
 * Bad input from the person at the command line or the web form: reported plainly, exit code 2, nothing changed.
 * (Problems in catalog, directory and calendar files are InvalidInputError in config/load.ts: they carry file,
 * line and field.)
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}
