import type {TimelineEvent} from '../timeline/events.ts';
import {table} from './format.ts';
import {clean, safeJson} from './sanitize.ts';

/** Timesketch's required columns first, then ours. */
const timelineColumns = [
	'message',
	'datetime',
	'timestamp_desc',
	'timestamp',
	'kind',
	'subject',
	'source',
	'field',
	'source_time',
] as const;

/** JSON Lines, one event per line (exact values; JSON escapes control characters). */
export function timelineJsonl(events: readonly TimelineEvent[]): string {
	return (
		events.map(e => safeJson(Object.fromEntries(timelineColumns.map(k => [k, e[k]])))).join('\n') +
		(events.length > 0 ? '\n' : '')
	);
}

/**
 * CSV (RFC 4180). Every cell goes through the escaper (clean): ESC, BEL, bidi and invisible
 * characters would otherwise act when the CSV is printed (an OSC 52 clipboard write). A cell
 * from the evidence that starts with = + - @ (or a tab or carriage return) would run as a
 * formula in a spreadsheet: such cells get a leading single quote. Only the CSV is changed this
 * way; JSON Lines keep exact values (invisible characters written as \uXXXX).
 */
export function timelineCsv(events: readonly TimelineEvent[]): string {
	const cell = (v: string | number) => {
		let s = clean(String(v));
		if (typeof v === 'string' && (/^[=+\-@\t\r]/.test(v) || /^[=+\-@]/.test(s))) s = `'${s}`;
		return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
	};
	const lines = [timelineColumns.join(','), ...events.map(e => timelineColumns.map(k => cell(e[k])).join(','))];
	return `${lines.join('\r\n')}\r\n`;
}

/** A readable table: UTC time to the microsecond, the event, the message, and where the time came from. */
export function timelineTable(events: readonly TimelineEvent[]): string {
	if (events.length === 0) return 'no dated events\n';
	return table(
		['TIME (UTC)', 'EVENT', 'WHAT', 'FROM'],
		events.map(e => [
			e.datetime.replace('T', ' ').replace('Z', ''),
			e.timestamp_desc,
			clean(e.message).slice(0, 120),
			`${e.source} (${e.field})`,
		]),
	);
}
