import {type Finding, compareFindings} from '../finding.ts';
import {buildTimeline} from '../timeline/events.ts';
import {findingLines} from '../view/files-text.ts';
import {timelineCsv, timelineJsonl, timelineTable} from '../view/timeline-text.ts';
import type {CommandContext} from './context.ts';

/**
 * `layerlens timeline [--files] [--logs] [--format table|jsonl|csv]`: every dated event, oldest
 * first. What could not be put in it (a cap reached, a log unreadable or damaged) goes to stderr,
 * whatever the format, so that stdout stays the timeline.
 */
export async function timelineCommand({args, loaded, io}: CommandContext): Promise<number> {
	const findings: Finding[] = [];
	const events = await buildTimeline(loaded.model, loaded.source, {files: args.files, logs: args.logs, findings});
	const format = args.json ? 'jsonl' : (args.format ?? 'table');
	io.stdout.write(
		format === 'jsonl' ? timelineJsonl(events) : format === 'csv' ? timelineCsv(events) : timelineTable(events),
	);
	if (findings.length > 0) io.stderr.write(findingLines(findings.sort(compareFindings)));
	return 0;
}
