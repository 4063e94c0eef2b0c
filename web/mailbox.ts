/**
 * The mail catcher's messages in the browser, for `npm start` only (as Mailpit does): a list of the .eml files
 * in the data folder and each message's plain text. A production `duban web` never mounts this.
 *
 * The MIME reading is deliberately minimal (headers, multipart, base64 and quoted-printable, UTF-8): it reads
 * what duban itself sends, nothing more.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { decodeEncodedWords, headerValue } from '../channels/sink';

export interface MailSummary {
  name: string;
  subject: string;
  to: string;
  date: string;
}

export function listMail(folder: string, limit = 500): MailSummary[] {
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  names.sort().reverse();
  return names.slice(0, limit).map((name) => {
    const head =
      readFileSync(path.join(folder, name))
        .subarray(0, 16384)
        .toString('utf8')
        .split(/\r?\n\r?\n/)[0] ?? '';
    return {
      name,
      subject: decodeEncodedWords(headerValue(head, 'Subject')),
      // The copy's own recipient when the catcher recorded it (one copy per recipient), else the To header.
      to: headerValue(head, 'Delivered-To') || decodeEncodedWords(headerValue(head, 'To')),
      date: headerValue(head, 'Date') || statSync(path.join(folder, name)).mtime.toISOString(),
    };
  });
}

/** A file name the list produced: no path parts, so nothing outside the folder can be read. */
export function isMailName(name: string): boolean {
  return /^[A-Za-z0-9._-]+\.eml$/.test(name) && !name.startsWith('.');
}

function decodeBody(body: string, encoding: string): string {
  const e = encoding.toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') {
    const bytes = Buffer.from(
      body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
    return bytes.toString('utf8');
  }
  return body;
}

/** The plain-text part of a message (the first text/plain found), or the HTML part's text as a fallback. */
function textOf(raw: string): string | undefined {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const type = headerValue(head, 'Content-Type') || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith('--'));
    const texts = parts.map((p) => textOf(p.replace(/^\r?\n/, '')));
    return texts.find((t) => t !== undefined);
  }
  if (/^text\/plain/i.test(type)) return decodeBody(body, headerValue(head, 'Content-Transfer-Encoding'));
  return undefined;
}

export function readMail(
  folder: string,
  name: string,
): { subject: string; from: string; to: string; cc: string; date: string; text: string } | undefined {
  if (!isMailName(name)) return undefined;
  let raw: string;
  try {
    raw = readFileSync(path.join(folder, name), 'utf8');
  } catch {
    return undefined;
  }
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const h = (n: string) => decodeEncodedWords(headerValue(head, n));
  return { subject: h('Subject'), from: h('From'), to: h('To'), cc: h('Cc'), date: h('Date'), text: textOf(raw) ?? '' };
}
