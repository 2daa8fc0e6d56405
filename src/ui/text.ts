/**
 * Styled text as plain data: a line is a list of segments, each with a tone. Components map
 * tones to colours; tests and snapshots read the text. Every string from the evidence passes
 * through clean() before it becomes a segment.
 */
export type Tone = 'plain' | 'dim' | 'title' | 'id' | 'role' | 'error' | 'warning' | 'info' | 'ok' | 'label';

export type Segment = {readonly text: string; readonly tone: Tone};

export type Line = readonly Segment[];

export const seg = (text: string, tone: Tone = 'plain'): Segment => ({text, tone});

export function lineText(line: Line): string {
	return line.map(s => s.text).join('');
}

/**
 * Cuts a line to `width` columns, ending with "…" when something was cut. Counts one column per
 * code point (clean() has already made control characters visible).
 */
export function truncateLine(line: Line, width: number): Line {
	if (width <= 0) return [];
	let used = 0;
	const out: Segment[] = [];
	for (const s of line) {
		const chars = [...s.text];
		if (used + chars.length <= width) {
			out.push(s);
			used += chars.length;
			continue;
		}
		const room = width - used - 1;
		if (room > 0) out.push({text: chars.slice(0, room).join(''), tone: s.tone});
		out.push({text: '…', tone: 'dim'});
		return out;
	}
	return out;
}

/** Cuts a plain string to width columns with "…". */
export function truncate(text: string, width: number): string {
	return lineText(truncateLine([seg(text)], width));
}

export function plural(n: number, word: string): string {
	return `${n} ${word}${n === 1 ? '' : 's'}`;
}
