import {maxOf} from '../append.ts';
import {shortId as modelShortId} from '../model/ids.ts';
import type {Image} from '../model/types.ts';
import {clean} from './sanitize.ts';

/** model/ids.ts's short id (cleaned where it is shown: seg, t, table). */
export function shortId(id: string | null | undefined): string {
	return modelShortId(id);
}

export {humanSize} from '../units.ts';

/** An image as the tree and the explorer name it: its tags, else its digests, else <none> and why. Cleaned: the explorer's search matches it as shown. */
export function imageLabel(i: Image): string {
	if (i.tags.length > 0) return i.tags.map(clean).join(', ');
	if (i.digests.length > 0) return i.digests.map(clean).join(', ');
	return i.intermediate ? '<none> (intermediate)' : '<none> (dangling)';
}

/** Times are printed in UTC, to the second, as "2017-02-13 16:43:20 UTC"; a time that does not parse as it is, cleaned (it is a string for printing). */
export function utc(t: string | null | undefined): string {
	if (t === null || t === undefined) return '-';
	const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
	if (m === null) return clean(t);
	if (m[4] === 'Z') return `${m[1]} ${m[2]} UTC`;
	const d = new Date(t);
	return Number.isNaN(d.getTime())
		? clean(t)
		: d
				.toISOString()
				.replace('T', ' ')
				.replace(/\.\d+Z$/, ' UTC');
}

/** Lays out rows in columns separated by three spaces, like docker's tables. Every cell is cleaned first, so widths count what is shown. */
export function table(head: string[], body: string[][]): string {
	const header = head.map(clean);
	const rows = body.map(r => r.map(clean));
	const widths = header.map((h, i) =>
		maxOf(
			rows.map(r => (r[i] ?? '').length),
			h.length,
		),
	);
	const line = (cells: string[]) =>
		cells
			.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
			.join('   ')
			.trimEnd();
	return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
