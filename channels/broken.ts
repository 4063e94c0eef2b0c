/**
 * What a broken channel means, in Chinese, for the people who must fix it (docs/channels.md, "Exactly once, and
 * failures"): the board's alert, the operator's webhook, robot or command, and the operator's email all say which
 * channel, what the provider answered, and which setting to change. Pure: the reason is the provider's answer as
 * the transports word it (`errcode 93000: …`, `code 19021: …`, `isv.SMS_TEMPLATE_ILLEGAL: …`, `HTTP 401: …`) or the
 * missing-secret text of config/channels.ts; it never holds a secret (the transports keep keys out of it).
 */
import { secretVariable } from '../config/channels';
import type { ChannelKind } from '../domain/model';

export const CHANNEL_KIND_LABEL: Record<ChannelKind, string> = {
  wecom: '企业微信群机器人',
  dingtalk: '钉钉群机器人',
  feishu: '飞书群机器人',
  sms: '阿里云短信',
  webhook: 'Webhook',
};

const has = (reason: string, ...codes: (string | number)[]) =>
  codes.some((c) => new RegExp(`(^|\\D)${String(c).replace(/\./g, '\\.')}(\\D|$)`).test(reason));

/** What is wrong and which setting to change, and how, for one broken channel: a sentence with 请. */
export function brokenChannelAdvice(name: string, kind: ChannelKind | undefined, reason: string): string {
  const key = secretVariable(name, 'KEY');
  const secret = secretVariable(name, 'SECRET');
  const missing = reason.match(/DUBAN_CHANNEL_[A-Z0-9_]+_(KEY|SECRET)/g);
  if (/has no secret in the settings/.test(reason) && missing)
    return `该渠道缺少密钥：请在工作进程的设置中填写 ${[...new Set(missing)].join(' 和 ')}（或写入 DUBAN_CHANNEL_SECRETS_FILE 指定的文件），然后重启工作进程`;
  switch (kind) {
    case 'wecom':
      return `企业微信拒绝了该机器人的 key：请在群聊的“群机器人”中打开该机器人，复制其 webhook 地址中 key= 之后的部分，填入 ${key}（机器人被删除时需重新添加）`;
    case 'dingtalk':
      if (has(reason, 310000))
        return `钉钉安全校验未通过：机器人“安全设置”选择加签时，请把加签密钥（SEC 开头）填入 ${secret}；选择自定义关键词时，关键词须为“督办”`;
      return `钉钉拒绝了该机器人的 access_token：请复制机器人 webhook 地址中 access_token= 之后的部分，填入 ${key}`;
    case 'feishu':
      if (has(reason, 19021)) return `飞书签名校验未通过：请把机器人“安全设置”中签名校验的密钥填入 ${secret}`;
      if (has(reason, 19024)) return '飞书关键词校验未通过：请把机器人“安全设置”中的自定义关键词设为“督办”';
      if (has(reason, 19022)) return '飞书拒绝了发送方的 IP：请在机器人“安全设置”的 IP 白名单中加入工作进程的出口 IP';
      return `飞书拒绝了该机器人：请复制机器人 webhook 地址最后一段（hook id），填入 ${key}`;
    case 'sms':
      if (/SMS_SIGNATURE_ILLEGAL|SIGN_NAME/i.test(reason))
        return '短信签名不可用：请在单位名录的短信渠道中填写阿里云短信控制台中已审核通过的签名（signName）';
      if (/SMS_TEMPLATE_ILLEGAL|TEMPLATE/i.test(reason))
        return '短信模板不可用：请在单位名录的短信渠道中填写已审核通过的模板代码（templateCode，SMS_ 开头）';
      return `阿里云拒绝了 AccessKey：请把只有短信发送权限的 RAM 用户的 AccessKey ID 填入 ${key}，AccessKey Secret 填入 ${secret}`;
    case 'webhook':
      return `接收方拒绝了消息：请与接收方核对单位名录中该渠道的地址（url）和签名密钥 ${secret}`;
    default:
      return `请核对该渠道在单位名录中的设置和密钥（${key}、${secret}）`;
  }
}

/** One sentence for a person: which channel is broken, why, what to fix, and that nothing is lost. */
export function brokenChannelText(name: string, kind: ChannelKind | undefined, reason: string): string {
  const what = kind ? `${CHANNEL_KIND_LABEL[kind]}渠道` : '渠道';
  return (
    `${what} ${name} 无法发送（${reason}）。${brokenChannelAdvice(name, kind, reason)}。` +
    '该渠道的消息均已保留，修复后自动补发（每小时重试一次，工作进程重启时立即重试）；邮件照常发送。'
  );
}
