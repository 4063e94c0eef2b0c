/**
 * Histories of real runs (recorded from the message tests with `npm run record-histories`) replay against the
 * current workflow code: a change that would make running trackers non-deterministic fails here. Those recorded
 * before a patch stay, under a folder named after it (before-local-steps/: steps as queued activities;
 * before-lean-waits/: the loop's waits as `condition` with a timeout), so that each patch is shown to keep the runs
 * that began on the older code.
 */
import { Worker } from '@temporalio/worker';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { quietRuntime, workflowBundle } from '../support/engine';

jest.setTimeout(120_000);

const dir = path.join(__dirname, '..', 'histories');
const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of recorded histories', () => {
  beforeAll(() => quietRuntime());

  test('there are recorded histories, of the current code and of the code before each patch', () => {
    expect(files.filter((f) => !f.includes('/')).length).toBeGreaterThanOrEqual(5);
    expect(files.filter((f) => f.startsWith('before-local-steps/')).length).toBeGreaterThanOrEqual(5);
    expect(files.filter((f) => f.startsWith('before-lean-waits/')).length).toBeGreaterThanOrEqual(5);
  });

  test.each(files)('%s replays against the current code', async (file) => {
    const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: file }, history);
  });

  test('a non-deterministic change is detected', async () => {
    // The same history against a workflow whose first command differs must fail.
    const history = JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8'));
    const events = history.events as { eventType: string }[];
    const altered = {
      ...history,
      events: events.map((e) =>
        e.eventType === 'EVENT_TYPE_MARKER_RECORDED' ? { ...e, eventType: 'EVENT_TYPE_TIMER_STARTED' } : e,
      ),
    };
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: 'altered' }, altered),
    ).rejects.toThrow();
  });
});
