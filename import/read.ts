/**
 * Reading a plan file into text: plain text (UTF-8, or GB18030/GBK as older sites save it), .docx (mammoth's raw
 * text, one paragraph a line) and .html as government sites publish it (htmlparser2; scripts, styles and page
 * furniture skipped, block elements as lines). PDF is refused: docs/import.md says why.
 */
import * as mammoth from 'mammoth';
import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';

/** A plan file that cannot be read, said in Chinese for the command line and the web page alike. */
export class PlanReadError extends Error {
  override readonly name = 'PlanReadError';
}

/** Text from bytes: UTF-8 when the bytes are valid UTF-8, else GB18030 (a superset of GBK and GB2312). */
export function decodeText(bytes: Uint8Array, declared?: string): string {
  const label = declared?.toLowerCase();
  if (label && /^(gbk|gb2312|gb18030|big5)$/.test(label)) return new TextDecoder(label).decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

const SKIP = new Set([
  'script',
  'style',
  'noscript',
  'nav',
  'header',
  'footer',
  'iframe',
  'svg',
  'button',
  'form',
  'select',
]);
const BLOCK = new Set([
  'p',
  'div',
  'br',
  'li',
  'tr',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'section',
  'article',
  'table',
  'ul',
  'ol',
  'td',
  'title',
  'blockquote',
  'pre',
  'dd',
  'dt',
]);

/** The visible text of an HTML page, one block a line. */
export function htmlText(html: string): string {
  const doc = parseDocument(html, { decodeEntities: true });
  const parts: string[] = [];
  const walk = (nodes: ChildNode[]) => {
    for (const n of nodes) {
      if (n.type === 'text') parts.push((n as unknown as { data: string }).data.replace(/\s+/g, ' '));
      else if (n.type === 'tag' || n.type === 'script' || n.type === 'style') {
        const el = n as Element;
        const name = el.name.toLowerCase();
        if (SKIP.has(name) || el.attribs?.hidden !== undefined) continue;
        if (BLOCK.has(name)) parts.push('\n');
        walk(el.children);
        if (BLOCK.has(name)) parts.push('\n');
      }
    }
  };
  walk(doc.children);
  return parts
    .join('')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

/** The charset an HTML page declares in its first bytes (<meta charset=gbk>), if any. */
function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 2048));
  return head.match(/charset\s*=\s*["']?([\w-]+)/i)?.[1];
}

/** The plan's text from its bytes; the file name's extension says how to read them. */
export async function readPlan(bytes: Uint8Array, fileName: string): Promise<string> {
  const ext = fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? '';
  switch (ext) {
    case 'txt':
    case 'text':
    case 'md':
      return decodeText(bytes);
    case 'html':
    case 'htm':
    case 'shtml':
      return htmlText(decodeText(bytes, declaredCharset(bytes)));
    case 'docx': {
      try {
        const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
        return result.value;
      } catch (e) {
        throw new PlanReadError(`${fileName}：不是可读取的 .docx 文件，请用 Word 或 WPS 打开后重新另存为 .docx`);
      }
    }
    case 'doc':
      throw new PlanReadError(`${fileName}：不读取旧版 Word 格式 .doc，请用 Word 或 WPS 另存为 .docx`);
    case 'pdf':
      throw new PlanReadError(
        `${fileName}：不读取 PDF（其文字层会丢失段落和序号），请另存为 .docx 或 .txt，或使用政府网站上的网页版`,
      );
    default:
      throw new PlanReadError(`${fileName}：不能识别“.${ext}”文件，请上传 .txt、.docx 或 .html 文件`);
  }
}
