import {buildTimeline} from '../timeline/events.ts';
import {timelineCsv, timelineJsonl, timelineTable} from '../view/timeline.ts';
import type {CommandContext} from './context.ts';

/** `layerlens timeline [--files] [--logs] [--format table|jsonl|csv]`: every dated event, oldest first. */
export function timelineCommand({args, loaded, io}: CommandContext): number {
	const events = buildTimeline(loaded.model, loaded.source, {files: args.files, logs: args.logs});
	const format = args.json ? 'jsonl' : (args.format ?? 'table');
	io.stdout.write(format === 'jsonl' ? timelineJsonl(events) : format === 'csv' ? timelineCsv(events) : timelineTable(events));
	return 0;
}
