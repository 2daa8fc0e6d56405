/**
 * A streaming tar writer (POSIX ustar, with a PAX extended header when a value does not fit:
 * names over 100 bytes (or 255 with the prefix field), link targets over 100 bytes, sizes of
 * 8 GiB or more, ids over 0o7777777, non-ASCII names, written as their bytes). Headers are built one at a time and
 * content is passed through in pieces, so memory does not depend on the archive's size.
 */
import {encodeName} from '../formats/names.ts';

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export type TarEntry = {
	/** Member name without a leading '/'; directories get a trailing '/' here. */
	readonly name: string;
	readonly type: TarType;
	/** Permission bits and setuid/setgid/sticky (0o7777). */
	readonly mode: number;
	readonly uid: number;
	readonly gid: number;
	readonly mtimeMs: number;
	/** Content size (regular files only). */
	readonly size: number;
	readonly linkname?: string;
	readonly devmajor?: number;
	readonly devminor?: number;
};

const typeflag: Record<TarType, string> = {
	file: '0',
	hardlink: '1',
	symlink: '2',
	char: '3',
	block: '4',
	dir: '5',
	fifo: '6',
};
const BLOCK = 512;
const OCTAL_MAX = {7: 0o7777777, 11: 0o77777777777} as const;

/** Copies a string's bytes into a header field (at most max bytes). */
function field(b: Buffer, s: string, offset: number, max: number, encoding: 'utf8' | 'latin1'): void {
	Buffer.from(s, encoding).copy(b, offset, 0, max);
}

function octal(buf: Buffer, offset: number, width: 7 | 11, value: number): void {
	const v = Math.max(0, Math.min(Math.floor(value), OCTAL_MAX[width]));
	field(buf, `${v.toString(8).padStart(width, '0')}\0`, offset, width + 1, 'latin1');
}

/** A PAX record; the value is bytes (a name's raw bytes when it is not UTF-8). */
function paxRecord(key: string, value: string | Buffer): Buffer {
	const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
	const bodyLen = Buffer.byteLength(` ${key}=\n`) + v.length;
	let len = bodyLen + String(bodyLen).length;
	if (String(len).length !== String(len - bodyLen).length) len = bodyLen + String(len).length;
	return Buffer.concat([Buffer.from(`${len} ${key}=`, 'utf8'), v, Buffer.from('\n')]);
}

function isAscii(s: string): boolean {
	return /^[\x00-\x7f]*$/.test(s);
}

/** Splits a name into ustar prefix (≤155 bytes) and name (≤100 bytes) at a '/', or null. */
function splitUstar(name: string): {prefix: string; name: string} | null {
	if (!isAscii(name)) return null;
	if (name.length <= 100) return {prefix: '', name};
	if (name.length > 256) return null;
	for (let i = name.length - 1; i >= 0; i--) {
		if (name[i] !== '/') continue;
		const prefix = name.slice(0, i);
		const rest = name.slice(i + 1);
		if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return {prefix, name: rest};
		if (rest.length > 100) return null;
	}
	return null;
}

function header(fields: {
	name: string;
	prefix: string;
	mode: number;
	uid: number;
	gid: number;
	size: number;
	mtime: number;
	flag: string;
	linkname: string;
	devmajor: number;
	devminor: number;
}): Buffer {
	const b = Buffer.alloc(BLOCK);
	field(b, fields.name, 0, 100, 'utf8');
	octal(b, 100, 7, fields.mode);
	octal(b, 108, 7, fields.uid);
	octal(b, 116, 7, fields.gid);
	octal(b, 124, 11, fields.size);
	octal(b, 136, 11, fields.mtime);
	field(b, '        ', 148, 8, 'latin1');
	field(b, fields.flag, 156, 1, 'latin1');
	field(b, fields.linkname, 157, 100, 'utf8');
	field(b, 'ustar\x0000', 257, 8, 'latin1');
	octal(b, 329, 7, fields.devmajor);
	octal(b, 337, 7, fields.devminor);
	field(b, fields.prefix, 345, 155, 'utf8');
	let sum = 0;
	for (let i = 0; i < BLOCK; i++) sum += b[i]!;
	field(b, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
	return b;
}

/**
 * The header block(s) of an entry: a PAX extended header first when needed. Names and link
 * targets are written as the bytes they stand for (encodeName: a byte that is not UTF-8, kept
 * as U+DC80 + byte, is written as that byte), as docker export does (Go's archive/tar puts the
 * raw bytes in the PAX `path`/`linkpath` records, and no `hdrcharset`: GNU tar warns
 * "Ignoring unknown extended header keyword" on it, and reads the raw bytes as they are).
 */
export function entryHeader(e: TarEntry): Buffer {
	const pax: Buffer[] = [];
	const split = splitUstar(e.name);
	const linkname = e.linkname ?? '';
	if (split === null) pax.push(paxRecord('path', encodeName(e.name)));
	const linkFits = isAscii(linkname) && Buffer.byteLength(linkname) <= 100;
	if (!linkFits) pax.push(paxRecord('linkpath', encodeName(linkname)));
	if (e.size > OCTAL_MAX[11]) pax.push(paxRecord('size', String(e.size)));
	if (e.uid > OCTAL_MAX[7]) pax.push(paxRecord('uid', String(e.uid)));
	if (e.gid > OCTAL_MAX[7]) pax.push(paxRecord('gid', String(e.gid)));
	const mtime = Math.floor(e.mtimeMs / 1000);
	if (mtime < 0 || mtime > OCTAL_MAX[11]) pax.push(paxRecord('mtime', String(mtime)));
	const main = header({
		name: split?.name ?? e.name.slice(0, 100).replace(/[^\x00-\x7f]/g, '_'),
		prefix: split?.prefix ?? '',
		mode: e.mode & 0o7777,
		uid: e.uid,
		gid: e.gid,
		size: e.type === 'file' ? e.size : 0,
		mtime,
		flag: typeflag[e.type],
		linkname: linkFits ? linkname : linkname.slice(0, 100).replace(/[^\x00-\x7f]/g, '_'),
		devmajor: e.devmajor ?? 0,
		devminor: e.devminor ?? 0,
	});
	if (pax.length === 0) return main;
	const body = Buffer.concat(pax);
	const paxName = `PaxHeaders.0/${(split?.name ?? e.name.slice(-90)).replace(/[^\x20-\x7e]/g, '_').slice(-90)}`;
	const ext = header({
		name: paxName.slice(0, 100),
		prefix: '',
		mode: 0o644,
		uid: 0,
		gid: 0,
		size: body.length,
		mtime,
		flag: 'x',
		linkname: '',
		devmajor: 0,
		devminor: 0,
	});
	return Buffer.concat([ext, body, Buffer.alloc(padding(body.length)), main]);
}

export function padding(size: number): number {
	return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end-of-archive marker: two zero blocks. */
export function trailer(): Buffer {
	return Buffer.alloc(2 * BLOCK);
}
