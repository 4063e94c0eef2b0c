/**
 * Evidence files (佐证材料, DOMAIN.md 23): PDF, OFD, DOC/DOCX, XLS/XLSX, JPG/PNG, recognised by their content
 * (magic bytes, the names inside ZIP and OLE2 containers), never by the name or the browser's content type; a file
 * whose name says one type and whose content says another is refused. Stored once per content under
 * <evidence folder>/<first two hex digits>/<sha256>.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export type FileKind = 'pdf' | 'ofd' | 'doc' | 'docx' | 'xls' | 'xlsx' | 'jpg' | 'png';

export const MIME: Record<FileKind, string> = {
  pdf: 'application/pdf',
  ofd: 'application/ofd',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  jpg: 'image/jpeg',
  png: 'image/png',
};

const EXTENSIONS: Record<string, FileKind> = {
  pdf: 'pdf',
  ofd: 'ofd',
  doc: 'doc',
  docx: 'docx',
  xls: 'xls',
  xlsx: 'xlsx',
  jpg: 'jpg',
  jpeg: 'jpg',
  png: 'png',
};

const startsWith = (b: Buffer, sig: number[]) => b.length >= sig.length && sig.every((x, i) => b[i] === x);

/** The names of a ZIP archive's entries, from its central directory; undefined when it is not a readable ZIP. */
export function zipEntryNames(b: Buffer): string[] | undefined {
  // The end-of-central-directory record is in the last 22 + 65535 bytes (a comment may follow it).
  const from = Math.max(0, b.length - 22 - 0xffff);
  let eocd = -1;
  for (let i = b.length - 22; i >= from; i--) {
    if (b.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== 0x02014b50) return undefined;
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    names.push(b.subarray(p + 46, p + 46 + nameLen).toString('utf8'));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

const utf16 = (s: string) => Buffer.from(s, 'utf16le');

/** What the content is, or undefined when it is none of the accepted kinds. */
export function detectKind(b: Buffer): FileKind | undefined {
  if (startsWith(b, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf'; // %PDF-
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpg';
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) {
    const names = zipEntryNames(b);
    if (!names) return undefined;
    // OFD (GB/T 33190): a ZIP package whose entry point is OFD.xml at the root.
    if (names.includes('OFD.xml')) return 'ofd';
    if (names.includes('[Content_Types].xml')) {
      if (names.some((n) => n.startsWith('word/'))) return 'docx';
      if (names.some((n) => n.startsWith('xl/'))) return 'xlsx';
    }
    return undefined;
  }
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    // OLE2 compound file: the stream names in its directory (UTF-16LE) say Word or Excel.
    if (b.includes(utf16('WordDocument'))) return 'doc';
    if (b.includes(utf16('Workbook')) || b.includes(utf16('Book'))) return 'xls';
    return undefined;
  }
  return undefined;
}

export interface UploadedFile {
  /** The name as the person's computer called it (cleaned). */
  name: string;
  data: Buffer;
}

export interface CheckedFile {
  name: string;
  kind: FileKind;
  type: string;
  size: number;
  sha256: string;
  data: Buffer;
}

export class EvidenceError extends Error {}

/** A file name safe to show and to offer back for download: the last path part, no control characters. */
export function cleanName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[\u0000-\u001f\u007f\u2028\u2029"]/g, '')
    .trim()
    .slice(0, 200);
  return cleaned || 'file';
}

/** Checks one file: its content must be an accepted kind, and its name's extension must say the same kind. */
export function checkFile(f: UploadedFile, limits: { maxFileBytes: number }): CheckedFile {
  const name = cleanName(f.name);
  if (f.data.length === 0) throw new EvidenceError(`文件“${name}”是空文件`);
  if (f.data.length > limits.maxFileBytes)
    throw new EvidenceError(`文件“${name}”超过大小上限（${formatSize(limits.maxFileBytes)}）`);
  const kind = detectKind(f.data);
  if (!kind) throw new EvidenceError(`文件“${name}”不是可接受的格式（PDF、OFD、DOC/DOCX、XLS/XLSX、JPG/PNG）`);
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const claimed = ext ? EXTENSIONS[ext] : undefined;
  if (claimed !== kind) throw new EvidenceError(`文件“${name}”的扩展名与内容不符（内容是 ${kind.toUpperCase()} 文件）`);
  return {
    name,
    kind,
    type: MIME[kind],
    size: f.data.length,
    sha256: createHash('sha256').update(f.data).digest('hex'),
    data: f.data,
  };
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} 字节`;
}

export function storedPath(folder: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
  return path.join(folder, sha256.slice(0, 2), sha256);
}

/** Writes a file under its hash (atomically: a temporary file renamed); true when it was not there before. */
export function storeFile(folder: string, f: CheckedFile): boolean {
  const target = storedPath(folder, f.sha256);
  if (existsSync(target)) return false;
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, f.data);
  renameSync(tmp, target);
  return true;
}

export function removeStoredFile(folder: string, sha256: string): void {
  try {
    unlinkSync(storedPath(folder, sha256));
  } catch {
    // Already gone: nothing to undo.
  }
}
