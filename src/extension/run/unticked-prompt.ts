// Before a write with manual prerequisites nobody has ticked: a modal naming the target and the items, "Run Anyway" or
// cancel. The runner records the answer in the database's audit log either way.
import { askModal } from '../modal';
import { MANUAL_ITEMS, type ManualItem } from '../../engine/events';
import { describeWrite, type WriteRequest } from '../connections/safety';

export const RUN_ANYWAY = 'Run Anyway';

export async function askAboutUnticked(
  target: Pick<WriteRequest, 'action' | 'connection' | 'database'>,
  unticked: readonly ManualItem[],
): Promise<'go' | 'cancel'> {
  const count = `${unticked.length} manual prerequisite${unticked.length === 1 ? ' is' : 's are'} not ticked`;
  const answer = await askModal(
    `${describeWrite(target)}: ${count}.`,
    `Not ticked: ${unticked.map((m) => MANUAL_ITEMS[m]).join('; ')}.\n\nTick them under Prerequisites in the checklist once they are done. ` +
      "Your answer is recorded in the database's audit log.",
    RUN_ANYWAY,
  );
  return answer === RUN_ANYWAY ? 'go' : 'cancel';
}
