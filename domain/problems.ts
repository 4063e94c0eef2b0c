/**
 * A problem found in a catalog or directory, named by its document and the path to the field: what validation
 * (domain/validate.ts) and the directory's levels (domain/jurisdictions.ts) report, and what the CLI and the web
 * print with the file's line. Its own file so that both can name it without importing each other.
 */
export type DocumentKind = 'catalog' | 'directory';
export type Path = (string | number)[];

export interface Problem {
  document: DocumentKind;
  path: Path;
  message: string;
  /** True when the problem is about the key itself (an unknown key), not its value. */
  atKey?: boolean;
}
