/**
 * The one place that cleans evidence text: styled text as data, for the text views and the
 * explorer alike. A line is a list of segments, each with a tone; seg() is the only way to make a
 * Segment and it passes its text through clean() (src/view/sanitize.ts; idempotent, so text
 * cleaned before is unchanged). The Segment type carries a brand only this module writes, so an
 * object literal is not a Segment: whatever is drawn from Lines went through the escaper.
 *
 * Text views build their lines with the `t` template tag (every string put into it is cleaned,
 * segments kept) and tone constructors (`tone.title(x)`), and print them with renderLines, which paints
 * each tone after cleaning: colour never passes through the escaper, evidence always does.
 */
import type {Severity} from '../finding.ts';
import type {Paint} from './paint.ts';
import {clean} from './sanitize.ts';

export type Tone = 'plain' | 'dim' | 'title' | 'id' | 'role' | 'error' | 'warning' | 'info' | 'ok' | 'label';

declare const cleaned: unique symbol;

/** Text that went through clean(); made by seg() and its kin here only. */
export type Segment = {readonly text: string; readonly tone: Tone; readonly [cleaned]: true};

export type Line = readonly Segment[];

/** Text already cleaned (a cut of a segment's text): kept as it is. Not exported. */
const made = (text: string, tone: Tone): Segment => ({text, tone}) as Segment;

/** The one constructor: the text is cleaned. */
export const seg = (text: string, tone: Tone = 'plain'): Segment => made(clean(text), tone);

/** A segment of `text` cleaned, then padded with padEnd to `width` (what is shown is padded). */
export const padSeg = (text: string, width: number, tone: Tone = 'plain'): Segment =>
	made(clean(text).padEnd(width), tone);

/** A segment of `text` cleaned, then padded to `width` code points. */
export function padCols(text: string, width: number, tone: Tone = 'plain'): Segment {
	const s = clean(text);
	const len = [...s].length;
	return made(len >= width ? s : s + ' '.repeat(width - len), tone);
}

/** The first `n` code points of a segment (already clean: kept). */
export function cutSeg(s: Segment, n: number): Segment {
	return made([...s.text].slice(0, n).join(''), s.tone);
}

export function lineText(line: Line): string {
	return line.map(s => s.text).join('');
}

function isSegment(x: unknown): x is Segment {
	return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** What the `t` tag takes: text (cleaned), numbers, segments and lines (kept). */
export type Part = string | number | Segment | Line;

/**
 * A line from a template: `t`${tone.title('container')} ${c.name}  created ${utc(c.created)}``.
 * Every string in it is cleaned into plain segments (the template's own text is the code's, and
 * is kept); segments and lines are kept as they are.
 */
export function t(strings: TemplateStringsArray, ...parts: readonly Part[]): Segment[] {
	const out: Segment[] = [];
	let text = strings[0] ?? '';
	for (let i = 0; i < parts.length; i++) {
		const p = parts[i]!;
		if (typeof p === 'string') text += clean(p);
		else if (typeof p === 'number') text += String(p);
		else {
			if (text !== '') out.push(made(text, 'plain'));
			text = '';
			if (isSegment(p)) out.push(p);
			else for (const s of p) out.push(s);
		}
		text += strings[i + 1] ?? '';
	}
	if (text !== '') out.push(made(text, 'plain'));
	return out;
}

/** A line without the white space it ends with (as String.trimEnd on its text). */
export function trimEndLine(line: Line): Segment[] {
	const out = [...line];
	while (out.length > 0) {
		const last = out[out.length - 1]!;
		const text = last.text.trimEnd();
		if (text === last.text) break;
		out.pop();
		if (text !== '') {
			out.push(made(text, last.tone));
			break;
		}
	}
	return out;
}

const toneOf = (tone: Tone) => (text: string) => seg(text, tone);

/** Tone constructors for text views: `tone.dim(x)` is seg(x, 'dim'). */
export const tone = {
	title: toneOf('title'),
	dim: toneOf('dim'),
	id: toneOf('id'),
	role: toneOf('role'),
	error: toneOf('error'),
	warning: toneOf('warning'),
	info: toneOf('info'),
	ok: toneOf('ok'),
} as const;

/** A finding's severity as the text views print it: seven columns, in its colour. */
export function severitySeg(s: Severity): Segment {
	return s === 'error' ? tone.error('error  ') : s === 'warning' ? tone.warning('warning') : tone.info('info   ');
}

/** One line as text output: each segment painted in its tone (plain text as it is). */
export function renderLine(line: Line, paint: Paint): string {
	let out = '';
	for (const s of line) out += s.tone === 'plain' ? s.text : paint[s.tone === 'label' ? 'dim' : s.tone](s.text);
	return out;
}

/** Lines as plain text (no colour), each ending with a newline: for streamed rows and stderr messages. */
export function plainLines(lines: readonly Line[]): string {
	let out = '';
	for (const l of lines) out += `${lineText(l)}\n`;
	return out;
}

/** One message line for stderr: `layerlens: TEXT` and a newline, the text cleaned. */
export function message(text: string): string {
	return plainLines([[seg(`layerlens: ${text}`)]]);
}

/** Lines as text output: each rendered, joined with newlines, and a final newline. */
export function renderLines(lines: readonly Line[], paint: Paint): string {
	return `${lines.map(l => renderLine(l, paint)).join('\n')}\n`;
}

/** A progress line for a terminal's stderr: back to the line's start, the line cleared, then the text cleaned. */
export function progressLine(text: string): string {
	return `\r\x1b[K${seg(text).text}`;
}
