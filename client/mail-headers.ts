/**
 * Reading a few headers of raw messages for the console (the mail catcher of `duban start`, `duban simulate`).
 */

/** A header's value, with folded continuation lines joined; '' when absent. */
export function headerValue(raw: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw);
  return m ? m[1]!.replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

/** RFC 2047 encoded words (=?UTF-8?B?...?=, =?UTF-8?Q?...?=) back to text. */
export function decodeEncodedWords(s: string): string {
  return s.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, enc: string, t: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(t, 'base64').toString('utf8')
      : Buffer.from(t.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}
