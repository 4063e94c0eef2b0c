import { Command, Help } from 'commander';

/**
 * commander writes its own error messages in English (commander 12, lib/command.js and lib/option.js). The
 * command line's human output is Chinese (#19 item 7), so each message it can write is said again here; the
 * option names, arguments and values inside stay as typed. A message this table does not know (a newer commander)
 * is passed on unchanged rather than lost; test/domain/refusals.test.ts drives each kind through main().
 */
const RULES: [RegExp, (...m: string[]) => string][] = [
  [/^error: unknown option '([^']*)'/, (flag) => `错误：未知选项 ${flag}`],
  [/^error: unknown command '([^']*)'/, (name) => `错误：未知命令 ${name}`],
  [/^error: missing required argument '([^']*)'/, (name) => `错误：缺少必需的参数 <${name}>`],
  [/^error: option '([^']*)' argument missing/, (flags) => `错误：选项 ${flags} 缺少取值`],
  [/^error: required option '([^']*)' not specified/, (flags) => `错误：未给出必填选项 ${flags}`],
  [
    /^error: too many arguments(?: for '([^']*)')?\. Expected (\d+) arguments? but got (\d+)\./,
    (name, expected, got) => `错误：${name ? `${name} ` : ''}参数过多：应有${expected}个，实有${got}个`,
  ],
  [
    /^error: option '([^']*)' argument '([^']*)' is invalid\. Allowed choices are (.*)\./,
    (flags, value, choices) => `错误：选项 ${flags} 的取值“${value}”无效，可选：${choices}`,
  ],
  [
    /^error: option '([^']*)' argument '([^']*)' is invalid\./,
    (flags, value) => `错误：选项 ${flags} 的取值“${value}”无效`,
  ],
];

/** A suggestion commander appends after an unknown option or command. */
const SUGGESTION: [RegExp, (...m: string[]) => string][] = [
  [/\(Did you mean one of (.*)\?\)/, (list) => `（是否想用以下之一：${list}？）`],
  [/\(Did you mean (.*)\?\)/, (one) => `（是否想用 ${one}？）`],
];

/** commander's error text in Chinese; text it does not recognise comes back as it was. */
export function commanderMessage(text: string): string {
  let out = text;
  for (const [pattern, say] of RULES) {
    const m = pattern.exec(out);
    if (m) {
      out = out.slice(0, m.index) + say(...m.slice(1).map((x) => x ?? '')) + out.slice(m.index + m[0].length);
      break;
    }
  }
  for (const [pattern, say] of SUGGESTION) {
    const m = pattern.exec(out);
    if (m) {
      out = out.slice(0, m.index) + say(...m.slice(1)) + out.slice(m.index + m[0].length);
      break;
    }
  }
  return out;
}

/** The headings commander's help prints, and the extra facts it adds after a description. */
const HEADINGS: [RegExp, string][] = [
  [/^Usage: /m, '用法：'],
  [/^Arguments:$/m, '参数：'],
  [/^Options:$/m, '选项：'],
  [/^Commands:$/m, '命令：'],
];
const EXTRAS: [RegExp, string][] = [
  [/\bchoices: /g, '可选：'],
  [/\bdefault: /g, '默认：'],
  [/\bpreset: /g, '预设：'],
  [/\benv: /g, '环境变量：'],
];

/** commander's "(default: \"6\")" after a description, in words: （默认：\"6\"）. */
function extras(description: string): string {
  return description.replace(/ ?\(((?:choices|default|preset|env): .*)\)$/, (_, inner: string) => {
    let words = inner;
    for (const [pattern, word] of EXTRAS) words = words.replace(pattern, word);
    return `（${words.replace(/, (?=可选|默认|预设|环境变量)/g, '，')}）`;
  });
}

/**
 * Help in Chinese (#19 item 7): commander's headings, its help option and help command, and the facts it adds to
 * a description; the descriptions themselves are written in Chinese where each command is defined. Set on the
 * program before its commands are added: commander copies these settings to every sub-command it creates.
 */
export function chineseHelp(program: Command): Command {
  return program
    .helpOption('-h, --help', '显示帮助')
    .helpCommand('help [command]', '显示命令的帮助')
    .configureHelp({
      formatHelp(cmd, helper) {
        let text = Help.prototype.formatHelp.call(helper, cmd, helper);
        for (const [pattern, word] of HEADINGS) text = text.replace(pattern, word);
        return text;
      },
      optionDescription: (option) => extras(Help.prototype.optionDescription.call(new Help(), option)),
      argumentDescription: (argument) => extras(Help.prototype.argumentDescription.call(new Help(), argument)),
    });
}
