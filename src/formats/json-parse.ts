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

// Long on purpose: the scan runs over every byte of every JSON file of the root; split into a class with
// methods it measured 10% slower on `ls --json` over 3000 containers, so it stays one loop with its state local.
export function parseJson(
	text: string,
	opts: {maxDepth?: number} = {},
): {ok: true; value: ParsedJson} | {ok: false; error: string} {
	const limit = opts.maxDepth ?? maxJsonDepth;
	const stack: Frame[] = [];
	const edits: Array<[number, number, string]> = [];
	const numberText = new Map<string, string>();
	const inexact: JsonNumberText[] = [];
	let tooDeep: {count: number; first: string; limit: number} | undefined;
	let end = -1;
	let i = 0;
	const segments = (): Segment[] => stack.map(f => (f.array ? f.index : (f.key ?? '')));
	// Scan the first value; on anything unexpected stop and let JSON.parse say what is wrong.
	scan: while (i < text.length) {
		const c = text.charCodeAt(i);
		if (ws(c)) {
			i++;
			continue;
		}
		const top = stack.at(-1);
		if (c === 0x22) {
			const e = stringEnd(text, i);
			if (e < 0) break;
			if (top !== undefined && !top.array && top.expectKey) {
				const raw = text.slice(i + 1, e - 1);
				if (!raw.includes('\\')) top.key = raw;
				else {
					try {
						top.key = JSON.parse(text.slice(i, e)) as string;
					} catch {
						break;
					}
				}
				top.expectKey = false;
			}
			i = e;
		} else if (c === 0x7b || c === 0x5b) {
			if (stack.length >= limit) {
				const e = containerEnd(text, i);
				if (e < 0) break;
				edits.push([i, e, 'null']);
				if (tooDeep === undefined) tooDeep = {count: 0, first: pathText(segments()), limit};
				tooDeep.count++;
				i = e;
			} else {
				stack.push({array: c === 0x5b, key: undefined, index: 0, expectKey: c === 0x7b});
				i++;
				continue;
			}
		} else if (c === 0x7d || c === 0x5d) {
			if (top === undefined || top.array !== (c === 0x5d)) break;
			stack.pop();
			i++;
		} else if (c === 0x2c) {
			if (top === undefined) break;
			if (top.array) top.index++;
			else top.expectKey = true;
			i++;
			continue;
		} else if (c === 0x3a) {
			i++;
			continue;
		} else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
			numberRe.lastIndex = i;
			const m = numberRe.exec(text);
			if (m === null) break;
			const t = m[0];
			if (/[.eE]/.test(t) || t.replace('-', '').length >= 16) {
				const exact = exactInJs(t);
				const at = exact && numberText.size >= maxNumberTexts ? undefined : segments();
				if (at !== undefined) numberText.set(pathKey(at), t);
				if (!exact && at !== undefined) {
					edits.push([i, i + t.length, JSON.stringify(t)]);
					inexact.push({path: pathText(at), text: t});
				}
			}
			i += t.length;
		} else if (c === 0x74 || c === 0x66 || c === 0x6e) {
			while (i < text.length && text.charCodeAt(i) >= 0x61 && text.charCodeAt(i) <= 0x7a) i++;
		} else break scan;
		if (stack.length === 0) {
			end = i;
			break;
		}
	}
	let trailing = 0;
	let body = text;
	if (end >= 0) {
		let j = end;
		while (j < text.length && ws(text.charCodeAt(j))) j++;
		if (j < text.length) trailing = Buffer.byteLength(text.slice(j));
		body = text.slice(0, end);
	}
	if (edits.length > 0) {
		const parts: string[] = [];
		let at = 0;
		for (const [s, e, r] of edits) {
			parts.push(body.slice(at, s), r);
			at = e;
		}
		parts.push(body.slice(at));
		body = parts.join('');
	}
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
