/**
 * The explorer's styled text: Lines of Segments from src/view/line.ts, the one place that cleans
 * evidence text (seg() is the only constructor and cleans; the Segment type cannot be written as
 * an object literal). Components map tones to colours; tests and snapshots read the text.
 */
import {type Line, type Segment, cutSeg, seg} from '../view/line.ts';

export {type Line, type Segment, type Tone, lineText, padCols, padSeg, seg} from '../view/line.ts';

/**
 * Cuts a line to `width` columns, ending with "…" when something was cut. Counts one column per
 * code point (seg() has already made control characters visible).
 */
export function truncateLine(line: Line, width: number): Line {
	if (width <= 0) return [];
	let used = 0;
	const out: Segment[] = [];
	for (const s of line) {
		const chars = [...s.text].length;
		if (used + chars <= width) {
			out.push(s);
			used += chars;
			continue;
		}
		const room = width - used - 1;
		if (room > 0) out.push(cutSeg(s, room));
		out.push(seg('…', 'dim'));
		return out;
	}
	return out;
}

/** Cuts a string to width columns with "…" (cleaned first). */
export function truncate(text: string, width: number): string {
	return truncateLine([seg(text)], width)
		.map(s => s.text)
		.join('');
}

export function plural(n: number, word: string): string {
	return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A pane's title line as text: a mark when it has the focus, the title (cleaned), a rule, the note,
 * cut to `width`. The PaneTitle component and the plain opening frame both draw this.
 */
export function paneTitleText(title: string, note: string, width: number, focused: boolean): string {
	const head = seg(`${focused ? '▶' : ' '} ${title} `).text;
	const tail = seg(` ${note} `).text;
	const fill = Math.max(0, width - [...head].length - [...tail].length);
	return truncate(head + '─'.repeat(fill) + tail, width);
}
