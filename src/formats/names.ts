/**
 * File names on disk and in tar headers are bytes, not text. layerlens keeps them as JavaScript
 * strings so that every reader, view and command can use them, but without losing a byte: a
 * name that is valid UTF-8 decodes as usual, and each byte of a sequence that is not valid UTF-8
 * becomes the lone surrogate U+DC80 + byte (U+DC80..U+DCFF), as Python's "surrogateescape"
 * error handler does (PEP 383). No valid UTF-8 decodes to a lone surrogate, so the mapping is
 * reversible: encodeName(decodeName(bytes)) equals bytes for every byte string.
 *
 * The escaper (view/sanitize.ts) shows such a character as `\xNN`, the byte it stands for; JSON
 * keeps it as `\udcNN`; export and the tar writer turn it back into the byte.
 */

const REPLACEMENT = 0xfffd;

/** Decodes a name's bytes; invalid UTF-8 bytes become U+DC80 + byte. */
export function decodeName(bytes: Uint8Array, start = 0, end = bytes.length): string {
	const buf = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
	const fast = buf.toString('utf8');
	// Fast path: Node replaces every invalid sequence with U+FFFD, so a decode without one is exact.
	// With one (invalid bytes, or a real EF BF BD), the strict decode below keeps every byte.
	if (!fast.includes('\ufffd')) return fast;
	return strictDecode(buf);
}

function strictDecode(b: Buffer): string {
	let out = '';
	let i = 0;
	const n = b.length;
	while (i < n) {
		const c = b[i]!;
		if (c < 0x80) {
			out += String.fromCharCode(c);
			i++;
			continue;
		}
		const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (len !== 0 && i + len <= n && validSequence(b, i, len)) {
			out += b.toString('utf8', i, i + len);
			i += len;
			continue;
		}
		out += String.fromCharCode(0xdc00 + c);
		i++;
	}
	return out;
}

function validSequence(b: Buffer, i: number, len: number): boolean {
	const c = b[i]!;
	for (let k = 1; k < len; k++) if ((b[i + k]! & 0xc0) !== 0x80) return false;
	const c1 = b[i + 1]!;
	// Overlong forms, UTF-16 surrogates encoded in UTF-8, and code points past U+10FFFF are invalid.
	if (c === 0xe0 && c1 < 0xa0) return false;
	if (c === 0xed && c1 >= 0xa0) return false;
	if (c === 0xf0 && c1 < 0x90) return false;
	if (c === 0xf4 && c1 >= 0x90) return false;
	return true;
}

/** True when a name holds bytes that are not valid UTF-8 (escaped as U+DC80..U+DCFF). */
export function hasRawBytes(name: string): boolean {
	return /[\udc80-\udcff]/.test(name) && lonelyLow(name);
}

function lonelyLow(s: string): boolean {
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && isHigh(s.charCodeAt(i - 1)))) return true;
	}
	return false;
}

function isHigh(c: number): boolean {
	return c >= 0xd800 && c <= 0xdbff;
}

/** The bytes a decoded name stands for. Lone surrogates other than U+DC80..U+DCFF (never produced by decodeName) are written as U+FFFD. */
export function encodeName(name: string): Buffer {
	if (!/[\ud800-\udfff]/.test(name)) return Buffer.from(name, 'utf8');
	const bytes: number[] = [];
	let run = '';
	const flush = (): void => {
		if (run === '') return;
		for (const b of Buffer.from(run, 'utf8')) bytes.push(b);
		run = '';
	};
	for (let i = 0; i < name.length; i++) {
		const c = name.charCodeAt(i);
		if (isHigh(c) && i + 1 < name.length) {
			const d = name.charCodeAt(i + 1);
			if (d >= 0xdc00 && d <= 0xdfff) {
				run += name[i]! + name[i + 1]!;
				i++;
				continue;
			}
		}
		if (c >= 0xdc80 && c <= 0xdcff) {
			flush();
			bytes.push(c - 0xdc00);
			continue;
		}
		if (c >= 0xd800 && c <= 0xdfff) {
			run += String.fromCharCode(REPLACEMENT);
			continue;
		}
		run += name[i]!;
	}
	flush();
	return Buffer.from(bytes);
}

/** Byte length of a decoded name (what tar headers and NAME_MAX count). */
export function nameByteLength(name: string): number {
	return /[\ud800-\udfff]/.test(name) ? encodeName(name).length : Buffer.byteLength(name, 'utf8');
}
