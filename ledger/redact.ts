/**
 * A URL as it may be logged or shown: its password replaced. The ledger names its PostgreSQL URL this way and the
 * settings their SMTP and database URLs; it lives here, in the lowest room, so both read the one function.
 */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
