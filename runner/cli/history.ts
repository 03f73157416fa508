import * as z from 'zod';
import { formatDuration } from '../slack/text';
import { printable } from './printable';

/** The bot's answer to `{"history": true}` on the command line's route (bot/cli/history.ts). */
export const historyAnswerSchema = z.object({
  runs: z.array(
    z
      .object({
        runId: z.string(),
        action: z.string(),
        envPattern: z.string(),
        application: z.string(),
        region: z.string(),
        requestedBy: z.string(),
        state: z.string(),
        startedAt: z.string(),
        endedAt: z.string().optional(),
        exitCode: z.number().int().optional(),
        counts: z.record(z.string(), z.number()).optional(),
      })
      .loose(),
  ),
});
export type HistoryAnswer = z.infer<typeof historyAnswerSchema>;

/** Pure: the runs as a terminal shows them, one line each, newest first (all of it from outside: printable). */
export function historyText(answer: HistoryAnswer, application?: string): string {
  if (answer.runs.length === 0)
    return `no runs recorded${application ? ` for ${printable(application)}` : ''}`;
  return answer.runs
    .map((r) => {
      const took =
        r.endedAt !== undefined
          ? ` in ${formatDuration(Date.parse(r.endedAt) - Date.parse(r.startedAt))}`
          : '';
      const counts = r.counts
        ? ` (${Object.entries(r.counts)
            .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
            .join(', ')})`
        : '';
      const exit = r.exitCode !== undefined ? `, exit ${r.exitCode}` : '';
      return printable(
        `${r.startedAt.slice(0, 16).replace('T', ' ')}  ${r.action} ${r.envPattern} ${r.application} ${r.region}  by ${r.requestedBy}: ${r.state}${took}${exit}${counts}  [${r.runId}]`,
      );
    })
    .join('\n');
}
