/**
 * A push parser for tar streams (v7, ustar, GNU, PAX), written for hostile input: it never
 * throws on bad data, never allocates more than a caller-approved amount per member, and stops
 * at the first header it cannot trust. Data bytes are skipped unless the handler asks for them.
 *
 * Supported: ustar prefix, GNU long names/links ('L'/'K'), PAX extended headers ('x', global 'g',
 * Solaris 'X'), base-256 numeric fields, header checksums (unsigned and signed), GNU sparse
 * members (indexed, content not reconstructed), GNU dumpdir ('D').
 */
import {decodeName} from './names.ts';

export const BLOCK = 512;

/** Largest GNU long name/link or PAX header we agree to hold in memory. */
const META_CAP = 16 << 20;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export type TarHeader = {
	/** Name as stored (after a GNU long name or PAX path), not normalised. */
	readonly name: string;
	readonly type: TarEntryType;
	readonly typeflag: string;
	/** Content size (for a sparse member: its logical size). */
	readonly size: number;
	/** Mode bits as stored, masked to 0o7777. */
	readonly mode: number;
	readonly uid: number;
	readonly gid: number;
	readonly mtimeMs: number;
	/** Symlink target or hard-link target name, as stored. */
	readonly linkname: string;
	readonly devmajor: number;
	readonly devminor: number;
	/** SCHILY.xattr.* / LIBARCHIVE.xattr.* from PAX headers. */
	readonly xattrs: Record<string, Buffer> | undefined;
	/** Offset of this member's header block in the (uncompressed) stream. */
	readonly headerOffset: number;
	/** Offset of this member's data in the (uncompressed) stream. */
	readonly dataOffset: number;
	/** Bytes of data stored after the header (before padding). */
	readonly dataSize: number;
	/** Set when the stored bytes are not the content (GNU/PAX sparse). */
	readonly unreadable: string | undefined;
};

export type TarHandler = {
	/** A member's header. Return true to receive its data (the parser allocates dataSize bytes). */
	entry(h: TarHeader): boolean;
	/** The data asked for by entry(). */
	data(h: TarHeader, data: Buffer): void;
	/** The stream ended inside this member's data. */
	truncated(h: TarHeader): void;
	problem(message: string): void;
};

type Fields = Omit<TarHeader, 'dataOffset'>;

type State =
	| {readonly t: 'header'}
	| {readonly t: 'ext'; readonly fields: Fields}
	| {
			readonly t: 'data';
			remaining: number;
			readonly collect: Buffer | undefined;
			filled: number;
			readonly header: TarHeader | undefined;
			readonly done: (data: Buffer | undefined) => void;
	  };

/** A name for a message: JSON-quoted (no control characters reach a terminal), shortened. */
export function quote(name: string): string {
	return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

/** NUL-terminated string from a header field. */
function cstr(block: Buffer, start: number, length: number): string {
	let end = start;
	const limit = start + length;
	while (end < limit && block[end] !== 0) end++;
	return decodeName(block, start, end);
}

/**
 * A numeric header field: octal ASCII (leading spaces allowed, ended by space or NUL) or GNU
 * base-256 (high bit of the first byte set). NaN when unusable or beyond 2^53.
 */
function parseNumeric(block: Buffer, start: number, length: number, allowNegative = false): number {
	const first = block[start] ?? 0;
	if (first & 0x80) {
		const negative = first === 0xff;
		if (negative && !allowNegative) return NaN;
		let value = negative ? 0 : first & 0x7f;
		for (let i = start + 1; i < start + length; i++) {
			const b = block[i] ?? 0;
			value = value * 256 + (negative ? b ^ 0xff : b);
			if (value > Number.MAX_SAFE_INTEGER) return NaN;
		}
		return negative ? -(value + 1) : value;
	}
	let i = start;
	const end = start + length;
	while (i < end && block[i] === 0x20) i++;
	let value = 0;
	for (; i < end; i++) {
		const b = block[i] ?? 0;
		if (b < 0x30 || b > 0x37) break;
		value = value * 8 + (b - 0x30);
	}
	if (value > Number.MAX_SAFE_INTEGER) return NaN;
	// An empty field reads as 0 (devmajor of a regular file, for instance), but garbage does not.
	for (; i < end; i++) {
		const b = block[i];
		if (b !== 0x20 && b !== 0) return NaN;
	}
	return value;
}

function checksumOk(block: Buffer): boolean {
	const stored = parseNumeric(block, 148, 8);
	if (Number.isNaN(stored)) return false;
	let unsigned = 0;
	let high = 0;
	for (let i = 0; i < BLOCK; i++) {
		const b = block[i] as number;
		unsigned += b;
		if (b > 127) high++;
	}
	let field = 0;
	let fieldHigh = 0;
	for (let i = 148; i < 156; i++) {
		const b = block[i] as number;
		field += b;
		if (b > 127) fieldHigh++;
	}
	unsigned += 8 * 0x20 - field;
	// Old writers summed signed chars: every byte over 127 counts 256 less.
	const signed = unsigned - 256 * (high - fieldHigh);
	return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Buffer): boolean {
	// The checksum field of a real header is never zero: most blocks are told apart right away.
	if (block[148] !== 0 || block[0] !== 0) return false;
	for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
	return true;
}

function roundUp(n: number): number {
	return Math.ceil(n / BLOCK) * BLOCK;
}

/** PAX records "<len> <key>=<value>\n"; values are kept as bytes (xattr values are binary). */
function parsePax(buf: Buffer, problem: (message: string) => void): Map<string, Buffer> {
	const records = new Map<string, Buffer>();
	let pos = 0;
	while (pos < buf.length) {
		if (buf[pos] === 0) break; // NUL padding after the last record
		const space = buf.indexOf(0x20, pos);
		const lengthText = space < 0 ? '' : buf.toString('latin1', pos, space);
		if (!/^[0-9]{1,12}$/.test(lengthText)) {
			problem('malformed PAX record (bad length); the rest of that header is ignored');
			break;
		}
		const length = Number(lengthText);
		const end = pos + length;
		if (end > buf.length || end <= space + 1 || buf[end - 1] !== 0x0a) {
			problem('malformed PAX record (length does not match); the rest of that header is ignored');
			break;
		}
		const equals = buf.indexOf(0x3d, space + 1);
		if (equals < 0 || equals >= end - 1 || equals === space + 1) {
			problem('malformed PAX record (no key); the rest of that header is ignored');
			break;
		}
		const key = buf.toString('utf8', space + 1, equals);
		records.set(key, Buffer.from(buf.subarray(equals + 1, end - 1)));
		pos = end;
	}
	return records;
}

function paxDecimal(value: Buffer | undefined): number | undefined {
	if (value === undefined) return undefined;
	const text = value.toString('latin1');
	if (!/^[0-9]{1,16}$/.test(text)) return NaN;
	const n = Number(text);
	return n > Number.MAX_SAFE_INTEGER ? NaN : n;
}

/** PAX times: "[-]seconds[.fraction]". */
function paxTimeMs(value: Buffer | undefined): number | undefined {
	if (value === undefined) return undefined;
	const match = /^(-?)([0-9]{1,15})(?:\.([0-9]*))?$/.exec(value.toString('latin1'));
	if (match === null) return undefined;
	const seconds = Number(match[2]);
	const fraction = Number(`0.${(match[3] ?? '0').slice(0, 9).padEnd(1, '0')}`);
	const ms = (seconds + fraction) * 1000;
	return match[1] === '-' ? -ms : ms;
}

export class TarParser {
	/** Bytes consumed so far, in the uncompressed stream. */
	pos = 0;
	/** No more input wanted (end marker seen, or a header could not be trusted). */
	done = false;
	/** The end-of-archive marker was reached. */
	complete = false;
	/** The first block is not a tar header: the input is not a tar archive. */
	notTar = false;
	/** Headers accepted so far (members and extension headers). */
	headers = 0;

	private readonly handler: TarHandler;
	private state: State = {t: 'header'};
	private readonly block = Buffer.alloc(BLOCK);
	private fill = 0;
	private longName: string | undefined;
	private longLink: string | undefined;
	private paxLocal: Map<string, Buffer> | undefined;
	private readonly paxGlobal = new Map<string, Buffer>();
	/** Set when an extension header for the next member was unusable: that member is not indexed. */
	private poison: string | undefined;
	/** The PAX records of the member being decoded. */
	private current: Map<string, Buffer> | undefined;

	constructor(handler: TarHandler) {
		this.handler = handler;
	}

	/** Feeds bytes; returns false once no more input is wanted. */
	push(chunk: Buffer): boolean {
		let off = 0;
		while (off < chunk.length && !this.done) {
			const state = this.state;
			if (state.t === 'data') {
				const n = Math.min(state.remaining, chunk.length - off);
				if (state.collect !== undefined && state.filled < state.collect.length) {
					const m = Math.min(n, state.collect.length - state.filled);
					chunk.copy(state.collect, state.filled, off, off + m);
					state.filled += m;
				}
				state.remaining -= n;
				off += n;
				this.pos += n;
				if (state.remaining === 0) {
					this.state = {t: 'header'};
					state.done(state.collect);
				}
				continue;
			}
			const n = Math.min(BLOCK - this.fill, chunk.length - off);
			chunk.copy(this.block, this.fill, off, off + n);
			this.fill += n;
			off += n;
			this.pos += n;
			if (this.fill < BLOCK) continue;
			this.fill = 0;
			if (state.t === 'header') this.onHeader(this.block, this.pos - BLOCK);
			else this.onSparseExtension(this.block, state.fields);
		}
		return !this.done;
	}

	/**
	 * Advances over n bytes of the current member's data without having them: tar-split records
	 * (src/read/tar-split.ts) keep file contents out of the stream they describe. False when the
	 * parser is not inside a member's data or n runs past it (the records do not match the headers).
	 */
	skipData(n: number): boolean {
		if (n === 0) return true;
		const state = this.state;
		if (this.done || state.t !== 'data' || state.collect !== undefined || n > state.remaining) return false;
		state.remaining -= n;
		this.pos += n;
		if (state.remaining === 0) {
			this.state = {t: 'header'};
			state.done(undefined);
		}
		return true;
	}

	/** The input ended (or failed): records what was cut short. */
	end(): void {
		if (this.done) return;
		this.done = true;
		const state = this.state;
		if (this.headers === 0 && !this.complete) {
			this.notTar = true;
			return;
		}
		if (state.t === 'data') {
			if (state.header !== undefined) {
				this.handler.truncated(state.header);
				this.problem(
					`archive is truncated: it ends inside the data of ${quote(state.header.name)} (at byte ${this.pos})`,
				);
			} else {
				this.problem(`archive is truncated: it ends inside an extended header (at byte ${this.pos})`);
			}
		} else if (this.fill > 0 || state.t === 'ext') {
			this.problem(`archive is truncated: it ends inside a header (at byte ${this.pos})`);
		} else {
			this.problem(`archive has no end-of-archive marker: it may be truncated (ends at byte ${this.pos})`);
		}
	}

	private problem(message: string): void {
		this.handler.problem(message);
	}

	private fatal(message: string): void {
		this.problem(message);
		this.done = true;
	}

	private onHeader(block: Buffer, offset: number): void {
		if (isZeroBlock(block)) {
			this.complete = true;
			this.done = true;
			return;
		}
		if (!checksumOk(block)) {
			if (this.headers === 0) {
				this.notTar = true;
				this.done = true;
			} else {
				this.fatal(`bad header checksum at byte ${offset}; the rest of the archive is ignored`);
			}
			return;
		}
		this.headers++;
		const typeflag = String.fromCharCode(block[156] ?? 0);
		const headerSize = parseNumeric(block, 124, 12);
		if (Number.isNaN(headerSize)) {
			this.fatal(`unusable size field in the header at byte ${offset}; the rest of the archive is ignored`);
			return;
		}

		if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'X' || typeflag === 'g') {
			this.onExtensionHeader(typeflag, headerSize, offset);
			return;
		}
		this.onMemberHeader(block, offset, typeflag, headerSize);
	}

	/** A member's own header (not an extension header), with the extension headers before it applied. */
	private onMemberHeader(block: Buffer, offset: number, typeflag: string, headerSize: number): void {
		const pax = this.paxLocal;
		const poison = this.poison;
		this.paxLocal = undefined;
		this.poison = undefined;
		this.current = pax;
		const name = this.memberName(block);
		const linkname = this.linkName(block);
		this.longName = undefined;
		this.longLink = undefined;
		const get = this.get;

		let size = headerSize;
		const paxSize = paxDecimal(get('size'));
		if (paxSize !== undefined) {
			if (Number.isNaN(paxSize)) {
				this.fatal(`unusable PAX size for ${quote(name)}; the rest of the archive is ignored`);
				return;
			}
			size = paxSize;
		}
		const mode = this.field(block, 100, 8, undefined, 'mode', name) & 0o7777;
		const uid = this.field(block, 108, 8, 'uid', 'uid', name);
		const gid = this.field(block, 116, 8, 'gid', 'gid', name);
		const devmajor = this.field(block, 329, 8, 'SCHILY.devmajor', 'devmajor', name);
		const devminor = this.field(block, 337, 8, 'SCHILY.devminor', 'devminor', name);
		const mtimeMs = this.mtimeOf(block);

		let xattrs: Record<string, Buffer> | undefined;
		if (this.paxGlobal.size > 0) xattrs = this.collectXattrs(this.paxGlobal, false, xattrs);
		if (pax !== undefined) xattrs = this.collectXattrs(pax, true, xattrs);

		const type = this.entryType(typeflag, name);
		if (type === undefined) {
			this.skip(size);
			return;
		}
		// Symlinks, devices, directories ('5') and FIFOs store no data, whatever their size field says.
		const dataSize = typeflag >= '2' && typeflag <= '6' ? 0 : size;
		let unreadable: string | undefined;
		let extended = false;
		if (typeflag === 'S') {
			const realSize = parseNumeric(block, 483, 12);
			size = Number.isNaN(realSize) ? size : realSize;
			unreadable = 'GNU sparse member: its content is not reconstructed';
			extended = block[482] !== 0;
		}
		const paxSparse = get('GNU.sparse.realsize') ?? get('GNU.sparse.size');
		if (type === 'file' && (paxSparse !== undefined || get('GNU.sparse.major') !== undefined)) {
			const realSize = paxDecimal(paxSparse);
			if (realSize !== undefined && !Number.isNaN(realSize)) size = realSize;
			unreadable = 'PAX sparse member: its content is not reconstructed';
		}
		if (type !== 'file') size = 0;

		const fields: Fields = {
			name,
			type,
			typeflag,
			size,
			mode,
			uid,
			gid,
			mtimeMs,
			linkname,
			devmajor,
			devminor,
			xattrs,
			headerOffset: offset,
			dataSize,
			unreadable,
		};
		if (poison !== undefined) {
			this.problem(`member ${quote(name)} ignored: ${poison}`);
			this.skip(dataSize);
		} else if (extended) this.state = {t: 'ext', fields};
		else this.emit(fields);
	}

	/** The PAX mtime, else the header's (0 when unusable). */
	private mtimeOf(block: Buffer): number {
		const fromPax = paxTimeMs(this.get('mtime'));
		if (fromPax !== undefined) return fromPax;
		const seconds = parseNumeric(block, 136, 12, true);
		return Number.isNaN(seconds) ? 0 : seconds * 1000;
	}

	/** The member's name: the header's (with its ustar prefix), replaced by a GNU long name, then by PAX path and GNU.sparse.name. */
	private memberName(block: Buffer): string {
		let name = cstr(block, 0, 100);
		if (block.toString('latin1', 257, 263) === 'ustar\0') {
			const prefix = cstr(block, 345, 155);
			if (prefix !== '') name = `${prefix}/${name}`;
		}
		if (this.longName !== undefined) name = this.longName;
		const paxPath = this.get('path');
		if (paxPath !== undefined) name = decodeName(paxPath);
		const sparseName = this.get('GNU.sparse.name');
		if (sparseName !== undefined) name = decodeName(sparseName);
		return name;
	}

	/** The member's link target: the header's, replaced by a GNU long link, then by PAX linkpath. */
	private linkName(block: Buffer): string {
		let linkname = cstr(block, 157, 100);
		if (this.longLink !== undefined) linkname = this.longLink;
		const paxLink = this.get('linkpath');
		if (paxLink !== undefined) linkname = decodeName(paxLink);
		return linkname;
	}

	/** The entry type a member's typeflag stands for; undefined for the members skipped (volume headers, continuations). */
	private entryType(typeflag: string, name: string): TarEntryType | undefined {
		switch (typeflag) {
			case '0':
			case '\0':
			case '7':
				return typeflag !== '7' && name.endsWith('/') ? 'dir' : 'file';
			case '1':
				return 'hardlink';
			case '2':
				return 'symlink';
			case '3':
				return 'char';
			case '4':
				return 'block';
			case '5':
			case 'D':
				return 'dir';
			case '6':
				return 'fifo';
			case 'S':
				return 'file';
			case 'V':
			case 'N':
			case 'M':
				if (typeflag === 'M') this.problem(`multi-volume continuation member ${quote(name)} skipped`);
				return undefined;
			default:
				this.problem(`member ${quote(name)} has unknown type ${JSON.stringify(typeflag)}; treated as a regular file`);
				return 'file';
		}
	}

	/** The current member's PAX value for key (a local empty value unsets the global one). */
	private readonly get = (key: string): Buffer | undefined => {
		const local = this.current?.get(key);
		if (local !== undefined) return local.length === 0 ? undefined : local;
		return this.paxGlobal.get(key);
	};

	private field(
		block: Buffer,
		start: number,
		length: number,
		key: string | undefined,
		label: string,
		name: string,
	): number {
		const fromPax = key === undefined ? undefined : paxDecimal(this.get(key));
		if (fromPax !== undefined && !Number.isNaN(fromPax)) return fromPax;
		const value = parseNumeric(block, start, length);
		if (Number.isNaN(value)) {
			this.problem(`unusable ${label} field for ${quote(name)}; read as 0`);
			return 0;
		}
		return value;
	}

	private collectXattrs(
		records: Map<string, Buffer>,
		local: boolean,
		into: Record<string, Buffer> | undefined,
	): Record<string, Buffer> | undefined {
		let xattrs = into;
		for (const [key, value] of records) {
			let xname: string | undefined;
			let xvalue: Buffer = value;
			if (key.startsWith('SCHILY.xattr.')) xname = key.slice('SCHILY.xattr.'.length);
			else if (key.startsWith('LIBARCHIVE.xattr.')) {
				try {
					xname = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
					xvalue = Buffer.from(value.toString('latin1'), 'base64');
				} catch {
					xname = undefined;
				}
			}
			if (xname === undefined || xname === '') continue;
			xattrs ??= Object.create(null) as Record<string, Buffer>;
			// An empty local value unsets a global one (an empty xattr value cannot be told apart then).
			if (local && value.length === 0 && this.paxGlobal.has(key)) {
				delete xattrs[xname];
				continue;
			}
			xattrs[xname] = xvalue;
		}
		return xattrs;
	}

	private onSparseExtension(block: Buffer, fields: Fields): void {
		this.state = {t: 'header'};
		if (block[504] !== 0) this.state = {t: 'ext', fields};
		else this.emit(fields);
	}

	private emit(fields: Fields): void {
		const header: TarHeader = {
			name: fields.name,
			type: fields.type,
			typeflag: fields.typeflag,
			size: fields.size,
			mode: fields.mode,
			uid: fields.uid,
			gid: fields.gid,
			mtimeMs: fields.mtimeMs,
			linkname: fields.linkname,
			devmajor: fields.devmajor,
			devminor: fields.devminor,
			xattrs: fields.xattrs,
			headerOffset: fields.headerOffset,
			dataOffset: this.pos,
			dataSize: fields.dataSize,
			unreadable: fields.unreadable,
		};
		let want = false;
		try {
			want = this.handler.entry(header);
		} catch (error) {
			this.problem(
				`internal error on ${quote(header.name)}: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
		if (header.dataSize === 0) return;
		let collect: Buffer | undefined;
		if (want) {
			try {
				collect = Buffer.allocUnsafe(header.dataSize);
			} catch {
				this.problem(`cannot hold the ${header.dataSize} bytes of ${quote(header.name)} in memory`);
			}
		}
		this.state = {
			t: 'data',
			remaining: roundUp(header.dataSize),
			collect,
			filled: 0,
			header,
			done: data => {
				if (data !== undefined) this.handler.data(header, data);
			},
		};
	}

	private skip(dataSize: number): void {
		if (dataSize === 0) return;
		this.state = {
			t: 'data',
			remaining: roundUp(dataSize),
			collect: undefined,
			filled: 0,
			header: undefined,
			done: () => {},
		};
	}

	private onExtensionHeader(typeflag: string, size: number, offset: number): void {
		const label = typeflag === 'L' ? 'GNU long name' : typeflag === 'K' ? 'GNU long link' : 'PAX header';
		if (size > META_CAP) {
			this.problem(`${label} at byte ${offset} is ${size} bytes, over the ${META_CAP}-byte limit; skipped`);
			if (typeflag !== 'g') this.poison = `its ${label} was too large to read`;
			this.skip(size);
			return;
		}
		const apply = (data: Buffer): void => {
			if (typeflag === 'L') this.longName = cstr(data, 0, data.length);
			else if (typeflag === 'K') this.longLink = cstr(data, 0, data.length);
			else {
				const records = parsePax(data, message => this.problem(`${message} (header at byte ${offset})`));
				if (typeflag === 'g') {
					for (const [key, value] of records) {
						if (value.length === 0) this.paxGlobal.delete(key);
						else this.paxGlobal.set(key, value);
					}
				} else {
					this.paxLocal ??= new Map();
					for (const [key, value] of records) this.paxLocal.set(key, value);
				}
			}
		};
		if (size === 0) {
			apply(Buffer.alloc(0));
			return;
		}
		this.state = {
			t: 'data',
			remaining: roundUp(size),
			collect: Buffer.allocUnsafe(size),
			filled: 0,
			header: undefined,
			done: data => {
				if (data !== undefined) apply(data);
			},
		};
	}
}
