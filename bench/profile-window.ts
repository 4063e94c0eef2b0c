/**
 * CPU profiles of a worker process for one window only (the storm, not the starts before it), every thread.
 *
 * Preloaded into a worker (`node --require dist/bench/profile-window.js ...`); Node passes the preload on to the
 * worker's threads (the SDK's workflow thread inherits execArgv), so each thread loads it too. SIGWINCH to the
 * process starts a profile in every thread, a second SIGWINCH stops them and writes one `.cpuprofile` per thread to
 * BENCH_PROFILE_DIR, named by pid and thread id: open them in Chrome's DevTools, or summarise them with
 * `node dist/bench/profile-summary.js DIR`.
 *
 * The main thread hears the signal and tells the others through a BroadcastChannel (signals reach only the main
 * thread). Nothing here runs unless the bench asks for it (BENCH_PROFILE_DIR set).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import * as path from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';

const dir = process.env.BENCH_PROFILE_DIR;

if (dir) {
  const channel = new BroadcastChannel('duban-bench-profile');
  channel.unref();
  let session: Session | undefined;

  const start = () => {
    if (session) return;
    session = new Session();
    session.connect();
    session.post('Profiler.enable', () => session!.post('Profiler.start'));
  };
  const stop = () => {
    const s = session;
    if (!s) return;
    session = undefined;
    s.post('Profiler.stop', (err, result) => {
      if (!err) {
        const file = path.join(dir, `window.${process.pid}.${isMainThread ? 'main' : `thread${threadId}`}.cpuprofile`);
        writeFileSync(file, JSON.stringify(result.profile));
      }
      s.disconnect();
    });
  };
  channel.onmessage = (event: MessageEvent) => (event.data === 'start' ? start() : stop());

  if (isMainThread) {
    let on = false;
    process.on('SIGWINCH', () => {
      on = !on;
      channel.postMessage(on ? 'start' : 'stop');
      if (on) start();
      else stop();
    });
  }
}
