/**
 * Evidence JSON, parsed without trusting its shape. One scan over the text, before JSON.parse:
 * - nesting is bounded: an object or array deeper than `maxDepth` is not loaded (it becomes
 *   null) and counted, so that nothing downstream recurses without bound;
 * - numbers are read exactly: the text of every number token with a fraction, an exponent or 16
 *   or more digits is kept by path, and a token JavaScript cannot hold as written (an integer
 *   beyond ±2^53 that would round, or beyond the float64 range such as 1e400) is loaded as its
 *   decimal text, a string, instead of a rounded number or null;
 * - the end of the first value is found, so that a file can be read as Go's json.Decoder reads
 *   it (the first value; what follows is ignored) or, as json.Unmarshal does, refused.
 * Never throws: a text that is not JSON is an error string.
 */

/** Objects and arrays nested deeper than this are not loaded. Docker's own files nest less than 10 deep. */
export const maxJsonDepth = 100;

/** Number texts kept by path at most (a 16 MiB file of fractions would hold millions); the inexact ones are always handled. */
const maxNumberTexts = 10_000;

export type JsonNumberText = {readonly path: string; readonly text: string};

export type ParsedJson = {
	readonly value: unknown;
	/** Bytes after the end of the first value that are not white space, counted from the first of them; 0 when none. */
	readonly trailing: number;
	/** Values not loaded because they were nested deeper than the limit: how many, and the path of the first. */
	readonly tooDeep?: {readonly count: number; readonly first: string; readonly limit: number};
	/** Numbers loaded as their decimal text because JavaScript cannot hold them as written. */
	readonly inexact: readonly JsonNumberText[];
	/** The exact text of number tokens with a fraction, an exponent or 16 or more digits, by pathKey(segments); the first maxNumberTexts, and every inexact one. */
	readonly numberText: ReadonlyMap<string, string>;
};

type Segment = string | number;

/** The key of a path in `numberText`. */
export function pathKey(segments: readonly Segment[]): string {
	return JSON.stringify(segments);
}

/** A path as people read it: `Config.Env[3]`, `Labels["a.b"]`. */
function pathText(segments: readonly Segment[]): string {
	let out = '';
	for (const s of segments) {
		if (typeof s === 'number') out += `[${s}]`;
		else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += out === '' ? s : `.${s}`;
		else out += `[${JSON.stringify(s)}]`;
	}
	return out === '' ? '(the top)' : out;
}

type Frame = {readonly array: boolean; key: string | undefined; index: number; expectKey: boolean};

const ws = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Where the string starting at `i` (a quote) ends: the index after its closing quote, or -1. */
function stringEnd(s: string, i: number): number {
	let j = i + 1;
	for (;;) {
		const q = s.indexOf('"', j);
		if (q < 0) return -1;
		let back = 0;
		for (let k = q - 1; k > i && s.charCodeAt(k) === 0x5c; k--) back++;
		if (back % 2 === 0) return q + 1;
		j = q + 1;
	}
}

/** Where the object or array starting at `i` ends (the index after its closing bracket), or -1. */
function containerEnd(s: string, i: number): number {
	let depth = 0;
	for (let j = i; j < s.length; j++) {
		const c = s.charCodeAt(j);
		if (c === 0x22) {
			const e = stringEnd(s, j);
			if (e < 0) return -1;
			j = e - 1;
		} else if (c === 0x7b || c === 0x5b) depth++;
		else if (c === 0x7d || c === 0x5d) {
			depth--;
			if (depth === 0) return j + 1;
		}
	}
	return -1;
}

const numberRe = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Whether a number token means exactly what JavaScript makes of it (or what Go's float64 would: fractions round alike). */
function exactInJs(text: string): boolean {
	const n = Number(text);
	if (!Number.isFinite(n)) return false;
	if (/[.eE]/.test(text)) return true;
	return Number.isSafeInteger(n) || BigInt(text) === BigInt(n);
}

type TooDeep = {count: number; first: string; limit: number};

/**
 * The scan of a text's first value: the edits to make before JSON.parse (values too deep, inexact
 * numbers), the number texts by path, and where the value ends. On anything unexpected it stops
 * (end stays -1) and JSON.parse says what is wrong.
 */
class JsonScan {
	readonly edits: Array<[number, number, string]> = [];
	readonly numberText = new Map<string, string>();
	readonly inexact: JsonNumberText[] = [];
	tooDeep: TooDeep | undefined;
	/** The index after the first value; -1 when the scan stopped before it. */
	end = -1;
	private readonly stack: Frame[] = [];
	private readonly text: string;
	private readonly limit: number;

	constructor(text: string, limit: number) {
		this.text = text;
		this.limit = limit;
	}

	private segments(): Segment[] {
		return this.stack.map(f => (f.array ? f.index : (f.key ?? '')));
	}

	run(): void {
		const text = this.text;
		let i = 0;
		while (i < text.length) {
			const c = text.charCodeAt(i);
			if (ws(c) || c === 0x3a) {
				i++;
				continue;
			}
			i = this.token(c, i);
			if (i < 0) return;
			if (this.stack.length === 0) {
				this.end = i;
				return;
			}
		}
	}

	/** Consumes the token at i (not white space or a colon): the index after it, or -1 to stop. */
	private token(c: number, i: number): number {
		if (c === 0x22) return this.string(i);
		if (c === 0x7b || c === 0x5b) return this.container(c, i);
		const top = this.stack.at(-1);
		if (c === 0x7d || c === 0x5d) {
			if (top === undefined || top.array !== (c === 0x5d)) return -1;
			this.stack.pop();
			return i + 1;
		}
		if (c === 0x2c) {
			if (top === undefined) return -1;
			if (top.array) top.index++;
			else top.expectKey = true;
			return i + 1;
		}
		if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(i);
		if (c === 0x74 || c === 0x66 || c === 0x6e) {
			const text = this.text;
			while (i < text.length && text.charCodeAt(i) >= 0x61 && text.charCodeAt(i) <= 0x7a) i++;
			return i;
		}
		return -1;
	}

	/** A string; when it is an object's key, kept as the frame's key. */
	private string(i: number): number {
		const text = this.text;
		const e = stringEnd(text, i);
		if (e < 0) return -1;
		const top = this.stack.at(-1);
		if (top !== undefined && !top.array && top.expectKey) {
			const raw = text.slice(i + 1, e - 1);
			if (!raw.includes('\\')) top.key = raw;
			else {
				try {
					top.key = JSON.parse(text.slice(i, e)) as string;
				} catch {
					return -1;
				}
			}
			top.expectKey = false;
		}
		return e;
	}

	/** An opening bracket: a new frame, or (nested too deep) the whole value replaced by null. */
	private container(c: number, i: number): number {
		if (this.stack.length < this.limit) {
			this.stack.push({array: c === 0x5b, key: undefined, index: 0, expectKey: c === 0x7b});
			return i + 1;
		}
		const e = containerEnd(this.text, i);
		if (e < 0) return -1;
		this.edits.push([i, e, 'null']);
		if (this.tooDeep === undefined) this.tooDeep = {count: 0, first: pathText(this.segments()), limit: this.limit};
		this.tooDeep.count++;
		return e;
	}

	/** A number: its text kept by path when it has a fraction, an exponent or 16+ digits; quoted when JavaScript cannot hold it. */
	private number(i: number): number {
		numberRe.lastIndex = i;
		const m = numberRe.exec(this.text);
		if (m === null) return -1;
		const t = m[0];
		if (/[.eE]/.test(t) || t.replace('-', '').length >= 16) {
			const exact = exactInJs(t);
			const at = exact && this.numberText.size >= maxNumberTexts ? undefined : this.segments();
			if (at !== undefined) this.numberText.set(pathKey(at), t);
			if (!exact && at !== undefined) {
				this.edits.push([i, i + t.length, JSON.stringify(t)]);
				this.inexact.push({path: pathText(at), text: t});
			}
		}
		return i + t.length;
	}
}

/** The text with each [start, end, replacement] applied (in order, not overlapping). */
function applyEdits(body: string, edits: ReadonlyArray<[number, number, string]>): string {
	const parts: string[] = [];
	let at = 0;
	for (const [s, e, r] of edits) {
		parts.push(body.slice(at, s), r);
		at = e;
	}
	parts.push(body.slice(at));
	return parts.join('');
}

export function parseJson(
	text: string,
	opts: {maxDepth?: number} = {},
): {ok: true; value: ParsedJson} | {ok: false; error: string} {
	const scan = new JsonScan(text, opts.maxDepth ?? maxJsonDepth);
	scan.run();
	const {end, tooDeep, inexact, numberText} = scan;
	let trailing = 0;
	let body = text;
	if (end >= 0) {
		let j = end;
		while (j < text.length && ws(text.charCodeAt(j))) j++;
		if (j < text.length) trailing = Buffer.byteLength(text.slice(j));
		body = text.slice(0, end);
	}
	if (scan.edits.length > 0) body = applyEdits(body, scan.edits);
	try {
		const value: unknown = JSON.parse(body);
		// The scan stops only on what JSON.parse refuses; were it ever to stop on valid JSON, nothing it
		// bounds (depth) would hold, so the text is refused rather than loaded unbounded.
		if (end < 0) return {ok: false, error: 'the text could not be scanned'};
		return {ok: true, value: {value, trailing, ...(tooDeep !== undefined ? {tooDeep} : {}), inexact, numberText}};
	} catch (error) {
		return {ok: false, error: error instanceof RangeError ? 'nested too deeply' : (error as Error).message};
	}
}
