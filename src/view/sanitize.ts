/**
 * The one escaper. Anything read from the evidence may hold terminal escape sequences meant to
 * rewrite the analyst's screen, or invisible characters that hide or reorder what is shown.
 * Text output (tables, TUI, CSV, graphs) shows such characters as visible escapes instead:
 *
 * - C0 controls and DEL as `\xNN` (`\n`, `\t`, `\r` as such): ESC is `\x1b`;
 * - a byte of a name that is not UTF-8 (kept as U+DC80 + byte, src/formats/names.ts) as `\xNN`,
 *   the byte itself: `\xff`;
 * - C1 controls as `\u0080` … `\u009f`, so that they cannot be mistaken for raw bytes;
 * - every format and invisible character as `\uXXXX` (`\u{XXXXX}` past U+FFFF): `\p{Cf}` (bidi
 *   controls and isolates, zero-width characters, U+00AD, U+061C, U+180E, U+2060–U+206F,
 *   U+FEFF, U+FFF9–U+FFFB, tag characters U+E0000–U+E007F), `\p{Default_Ignorable_Code_Point}`
 *   (Hangul fillers U+115F, U+1160, U+3164, U+FFA0, and the variation selectors: they are
 *   invisible and can carry hidden data after any character, so an emoji's U+FE0F shows as
 *   `\ufe0f` too), line and paragraph separators (U+2028, U+2029) and lone surrogates.
 *
 * JSON output keeps exact values but writes the same characters as `\uXXXX` (safeJson).
 * parseEscapes is the inverse, for arguments that name what the user saw (`cat C '/a\xff'`).
 */
const unsafe = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Cs}]/gu;

function hex(code: number, width: number): string {
	return code.toString(16).padStart(width, '0');
}

/** Printable ASCII only: nothing to escape (the common case, tested first because it is cheap). */
const printableAscii = /^[\x20-\x7e]*$/;

export function clean(s: string): string {
	if (printableAscii.test(s)) return s;
	return s.replace(unsafe, c => {
		if (c === '\n') return '\\n';
		if (c === '\t') return '\\t';
		if (c === '\r') return '\\r';
		const code = c.codePointAt(0)!;
		if (code < 0x20 || code === 0x7f) return `\\x${hex(code, 2)}`;
		if (code >= 0xdc80 && code <= 0xdcff) return `\\x${hex(code - 0xdc00, 2)}`;
		if (code > 0xffff) return `\\u{${hex(code, 5)}}`;
		return `\\u${hex(code, 4)}`;
	});
}

// What JSON.stringify leaves raw but a terminal or an editor would obey or hide: everything
// clean() escapes except C0 (JSON escapes C0 itself, and only its whitespace occurs outside strings).
const unsafeInJson = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Cs}]/gu;

function jsonEscape(c: string): string {
	let out = '';
	for (let i = 0; i < c.length; i++) out += `\\u${hex(c.charCodeAt(i), 4)}`;
	return out;
}

/**
 * The one JSON writer for everything layerlens prints as JSON: JSON.stringify (exact values),
 * with C1 controls, DEL, bidi, zero-width and other invisible characters, U+2028/U+2029 and
 * lone surrogates written as `\uXXXX`. Such characters can only occur inside strings, so the
 * replacement over the whole text is safe. `indent` as JSON.stringify's third argument.
 */
export function safeJson(value: unknown, indent?: number): string {
	const text = JSON.stringify(value, null, indent);
	return text === undefined ? 'null' : text.replace(unsafeInJson, jsonEscape);
}

/**
 * The inverse of clean for one argument: `\xNN` (a byte: under 0x80 the character, from 0x80 the
 * name's raw byte U+DC80 + NN), `\uXXXX`, `\u{X…}`, `\n`, `\t`, `\r`. Anything else is kept as
 * written. undefined when the argument holds no escape.
 */
export function parseEscapes(s: string): string | undefined {
	if (!s.includes('\\')) return undefined;
	let changed = false;
	const out = s.replace(
		/\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|([ntr]))/g,
		(all, x?: string, braced?: string, u?: string, letter?: string) => {
			if (x !== undefined) {
				changed = true;
				const b = parseInt(x, 16);
				return String.fromCharCode(b < 0x80 ? b : 0xdc00 + b);
			}
			const code = parseInt((braced ?? u)!, 16);
			if (braced !== undefined || u !== undefined) {
				if (code > 0x10ffff) return all;
				changed = true;
				return String.fromCodePoint(code);
			}
			changed = true;
			return letter === 'n' ? '\n' : letter === 't' ? '\t' : '\r';
		},
	);
	return changed ? out : undefined;
}
