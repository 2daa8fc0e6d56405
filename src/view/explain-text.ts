import type {Section} from '../teach/explain.ts';
import type {Paint} from './paint.ts';
import {type Line, renderLines, t, tone} from './line.ts';
import {clean} from './sanitize.ts';

/**
 * Breaks text into lines of at most width columns, at spaces (a longer word gets a line of its own).
 * The text is cleaned first, so the columns counted are the ones shown.
 */
export function wrap(text: string, width: number): string[] {
	const out: string[] = [];
	let line = '';
	for (const word of clean(text).split(/ +/)) {
		if (word === '') continue;
		if (line === '') line = word;
		else if (line.length + 1 + word.length <= width) line += ` ${word}`;
		else {
			out.push(line);
			line = word;
		}
	}
	if (line !== '') out.push(line);
	return out;
}

/** Explained sections as text: heading, the intro wrapped, then each label with its text indented below it. */
export function renderSections(sections: readonly Section[], paint: Paint, width = 96): string {
	const out: Line[] = [];
	for (const s of sections) {
		out.push([], [tone.title(s.heading)]);
		for (const l of wrap(s.intro, width - 2)) out.push(t`  ${l}`);
		for (const n of s.notes) {
			out.push(t`  ${tone.id(n.label)}`);
			for (const l of wrap(n.text, width - 6)) out.push(t`      ${tone.dim(l)}`);
		}
	}
	return renderLines(out, paint);
}
