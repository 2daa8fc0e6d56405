/**
 * Anything read from the evidence may hold terminal escape sequences meant to rewrite the
 * analyst's screen. Text output shows such characters as visible escapes instead:
 * ESC becomes "\x1b", a newline "\n", a bidi override "\u202e". JSON output keeps exact values
 * (JSON.stringify escapes C0 controls itself).
 */
// C0 controls, DEL, C1 controls, and Unicode format characters that reorder or hide text.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function clean(s: string): string {
	return s.replace(unsafe, c => {
		const code = c.charCodeAt(0);
		if (c === '\n') return '\\n';
		if (c === '\t') return '\\t';
		if (c === '\r') return '\\r';
		return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
	});
}
