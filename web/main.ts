/**
 * `duban web`: the web service on its own (production), until SIGINT or SIGTERM. The mail catcher's messages are
 * never served here; only `npm start` mounts them (client/start.ts).
 */
import { loadSettings } from '../config/settings';
import { Duban } from '../access/temporal';
import { openLedger } from '../access/ledger';
import { startWeb } from './server';

export async function runWeb(out: (s: string) => void): Promise<number> {
  const settings = loadSettings();
  const duban = await Duban.connect(settings);
  const ledger = await openLedger(settings);
  try {
    const web = await startWeb({ settings, duban, ledger });
    out(`duban web：${web.url}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await web.close();
    return 0;
  } finally {
    await ledger.close();
    await duban.close();
  }
}
