import fs from 'node:fs';
import {type FileReader, type Result, fail, ok} from './source.ts';
import {type SyncGunzip, syncGunzip} from '../formats/gunzip-sync.ts';
import type {Member} from './tar-index.ts';

/**
 * Reading the content of an archive's members again, after the index pass (tar-source.ts): an
 * uncompressed archive's byte ranges directly from the file; a gzip archive's through one live
 * inflater (GzipCursor), or from the whole inflated stream held through a WeakRef when it is small.
 */

/** Compressed bytes pushed into the inflater at a time: each push inflates to at most ~1032 times as much (8.3 MiB). */
const INFLATE_PIECE = 8 << 10;

export function describe(error: unknown): string {
	const e = error as NodeJS.ErrnoException | undefined;
	if (e?.code !== undefined) return e.code;
	return error instanceof Error ? error.message : String(error);
}

const noAtime = fs.constants.O_NOATIME ?? 0;

/**
 * Opens the archive file for reading with O_NOATIME, so that reading it does not change its access
 * time; falls back to a plain open when refused (EPERM: a file another user owns, as non-root).
 */
export function openArchive(location: string): number {
	if (noAtime !== 0) {
		try {
			return fs.openSync(location, fs.constants.O_RDONLY | noAtime);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
		}
	}
	return fs.openSync(location, fs.constants.O_RDONLY);
}

/** Closes the archive file of a cursor that is no longer reachable (a Source has no close()). */
const fdCloser = new FinalizationRegistry<{fd: number | undefined}>(box => {
	if (box.fd === undefined) return;
	try {
		fs.closeSync(box.fd);
	} catch {
		// already closed
	}
});

/**
 * One live inflater over a gzip archive, positioned for sequential reads: read(position) continues
 * from where the last read stopped (inflating and dropping what lies between); a position before
 * the bytes it holds starts again from the beginning of the archive. Memory: one inflated piece.
 */
class GzipCursor {
	/** Inflations from the start of the archive so far. */
	passes = 0;
	/** The archive file, open while the cursor is (in a box that the finalizer closes). */
	private readonly file: {fd: number | undefined} = {fd: undefined};
	private inflater: SyncGunzip | undefined;
	/** Compressed bytes consumed. */
	private inPos = 0;
	/** Offset, in the inflated stream, of pending[0]. */
	private outPos = 0;
	private pending: Buffer = Buffer.alloc(0);
	private eof = false;
	private readonly input = Buffer.allocUnsafe(INFLATE_PIECE);

	private readonly location: string;
	private readonly fileStat: fs.Stats;

	constructor(location: string, fileStat: fs.Stats) {
		this.location = location;
		this.fileStat = fileStat;
		fdCloser.register(this, this.file);
	}

	/** Copies inflated bytes at position into buffer[0..length): as many as the stream has (0 at its end), or an error. */
	read(buffer: Buffer, length: number, position: number): {ok: true; n: number} | {ok: false; message: string} {
		try {
			if (this.inflater === undefined || position < this.outPos) {
				const started = this.restart();
				if (started !== undefined) return {ok: false, message: started};
			}
			let n = 0;
			while (n < length) {
				const at = position + n;
				if (at < this.outPos + this.pending.length) {
					n += this.pending.copy(
						buffer,
						n,
						at - this.outPos,
						Math.min(this.pending.length, at - this.outPos + length - n),
					);
					continue;
				}
				if (this.eof) break;
				this.outPos += this.pending.length;
				this.pending = this.more();
			}
			return {ok: true, n};
		} catch (error) {
			this.reset();
			const e = error as NodeJS.ErrnoException;
			return {
				ok: false,
				message: e.code?.startsWith('Z_') ? `gzip: ${e.message}` : `cannot read the archive again: ${describe(error)}`,
			};
		}
	}

	/** The next inflated piece (possibly empty); sets eof at the end of the compressed file. */
	private more(): Buffer {
		const fd = this.file.fd;
		const inflater = this.inflater;
		if (fd === undefined || inflater === undefined) throw new Error('cursor is not open');
		const got = fs.readSync(fd, this.input, 0, INFLATE_PIECE, this.inPos);
		if (got === 0) {
			this.eof = true;
			return Buffer.alloc(0);
		}
		this.inPos += got;
		return inflater.push(this.input.subarray(0, got));
	}

	/** Starts inflating from the beginning; an error message when the archive changed or cannot be opened. */
	private restart(): string | undefined {
		this.inflater?.close();
		this.inflater = undefined;
		this.file.fd ??= openArchive(this.location);
		const now = fs.fstatSync(this.file.fd);
		if (now.size !== this.fileStat.size || now.mtimeMs !== this.fileStat.mtimeMs) {
			this.reset();
			return 'the archive changed since it was opened';
		}
		this.inflater = syncGunzip();
		this.inPos = 0;
		this.outPos = 0;
		this.pending = Buffer.alloc(0);
		this.eof = false;
		this.passes++;
		return undefined;
	}

	private reset(): void {
		this.inflater?.close();
		this.inflater = undefined;
		this.pending = Buffer.alloc(0);
		this.outPos = 0;
		if (this.file.fd !== undefined) {
			try {
				fs.closeSync(this.file.fd);
			} catch {
				// nothing to do
			}
			this.file.fd = undefined;
		}
	}
}

type Got = {ok: true; n: number} | {ok: false; message: string};

/** A member's content, read from the archive on demand: one per Source, holding its one inflater. */
export class TarContent {
	private readonly location: string;
	private readonly gzip: boolean;
	private readonly fileStat: fs.Stats;
	/** Bytes of tar stream the index pass read (inflated, for gzip). */
	private readonly inflatedSize: number;
	// At most one live inflater for the whole source (gzip only), created on the first content read.
	private cursor: GzipCursor | undefined;
	// A small archive (at most holdWhole inflated) is held whole once read, through a WeakRef, as
	// reads in any order then cost nothing more (container logs, read in container order, for instance).
	private whole: WeakRef<Buffer> | undefined;
	/** Whether the inflated stream is held whole once read; cleared when it cannot be (damage further on). */
	small: boolean;

	constructor(location: string, gzip: boolean, fileStat: fs.Stats, inflatedSize: number, holdWhole: number) {
		this.location = location;
		this.gzip = gzip;
		this.fileStat = fileStat;
		this.inflatedSize = inflatedSize;
		this.small = gzip && inflatedSize <= holdWhole;
	}

	/** Times content was inflated from the start of the archive so far. */
	get passes(): number {
		return this.cursor?.passes ?? 0;
	}

	private gzCursor(): GzipCursor {
		return (this.cursor ??= new GzipCursor(this.location, this.fileStat));
	}

	private wholeStream(): {ok: true; data: Buffer} | {ok: false; message: string} {
		const hit = this.whole?.deref();
		if (hit !== undefined) return {ok: true, data: hit};
		const data = Buffer.allocUnsafe(this.inflatedSize);
		const got: Got = this.gzCursor().read(data, data.length, 0);
		if (!got.ok) return got;
		const out = data.subarray(0, got.n);
		this.whole = new WeakRef(out);
		return {ok: true, data: out};
	}

	/** Opens the archive again to read a member's content, refusing when it changed since it was indexed. The caller closes the fd. */
	private reopen(rel: string): Result<number> {
		let fd: number;
		try {
			fd = openArchive(this.location);
		} catch (error) {
			return fail('io', rel, `cannot reopen the archive: ${describe(error)}`);
		}
		try {
			const now = fs.fstatSync(fd);
			if (now.size === this.fileStat.size && now.mtimeMs === this.fileStat.mtimeMs) return ok(fd);
			fs.closeSync(fd);
			return fail('io', rel, 'the archive changed since it was opened');
		} catch (error) {
			fs.closeSync(fd);
			return fail('io', rel, describe(error));
		}
	}

	private readRange(rel: string, offset: number, length: number): Result<Buffer> {
		const reopened = this.reopen(rel);
		if (!reopened.ok) return reopened;
		const fd = reopened.value;
		try {
			const buffer = Buffer.allocUnsafe(length);
			let total = 0;
			while (total < length) {
				const n = fs.readSync(fd, buffer, total, length - total, offset + total);
				if (n === 0) break;
				total += n;
			}
			if (total < length) return fail('io', rel, 'the archive ends inside this member');
			return ok(buffer);
		} catch (error) {
			return fail('io', rel, describe(error));
		} finally {
			fs.closeSync(fd);
		}
	}

	/** Reads a member's inflated bytes at position into buffer (as many as fit); fails where the archive ends inside it. */
	private gzRead(rel: string, m: Member, buffer: Buffer, position: number): Result<number> {
		const want = Math.min(buffer.length, m.size - position);
		if (want <= 0) return ok(0);
		const all = this.small ? this.wholeStream() : undefined;
		// A stream damaged further on cannot be held whole; the members before the damage are still read through the cursor.
		if (all !== undefined && !all.ok) this.small = false;
		if (all?.ok === true) {
			const n = all.data.copy(
				buffer,
				0,
				Math.min(all.data.length, m.dataOffset + position),
				Math.min(all.data.length, m.dataOffset + position + want),
			);
			if (n < want)
				return fail('io', rel, `the archive ends inside this member (after ${position + n} of ${m.size} bytes)`);
			return ok(n);
		}
		const got = this.gzCursor().read(buffer, want, m.dataOffset + position);
		if (!got.ok) return fail('io', rel, got.message);
		if (got.n < want)
			return fail('io', rel, `the archive ends inside this member (after ${position + got.n} of ${m.size} bytes)`);
		return ok(got.n);
	}

	/** A regular member's whole content (the caller has checked its size against the cap). */
	content(rel: string, m: Member): Result<Buffer> {
		if (m.unreadable !== undefined) return fail('io', rel, m.unreadable);
		if (m.data !== undefined) return ok(Buffer.from(m.data));
		if (m.size === 0) return ok(Buffer.alloc(0));
		if (!this.gzip) return this.readRange(rel, m.dataOffset, m.size);
		const out = Buffer.allocUnsafe(m.size);
		const got = this.gzRead(rel, m, out, 0);
		return got.ok ? ok(out) : got;
	}

	/**
	 * Content in pieces, memory bounded whatever the member's size: cached data is sliced from
	 * memory; an uncompressed archive is read again at the member's offset; a gzip archive through
	 * the source's one inflater (sequential reads continue it, an earlier offset restarts it).
	 */
	openRead(rel: string, m: Member): Result<FileReader> {
		if (m.unreadable !== undefined) return fail('io', rel, m.unreadable);
		if (m.data !== undefined) return memoryReader(rel, m.size, m.data);
		if (m.size === 0) return memoryReader(rel, m.size, Buffer.alloc(0));
		if (this.gzip) return this.inflatingReader(rel, m);
		const reopened = this.reopen(rel);
		if (!reopened.ok) return reopened;
		return fileReader(rel, m, reopened.value);
	}

	private inflatingReader(rel: string, m: Member): Result<FileReader> {
		let closed = false;
		return ok({
			size: m.size,
			read: (buffer: Buffer, position: number): Result<number> => {
				if (closed) return fail('io', rel, 'read after close');
				return this.gzRead(rel, m, buffer, position);
			},
			close(): void {
				closed = true;
			},
		});
	}
}

/** A reader over content held in memory. */
function memoryReader(rel: string, size: number, data: Buffer): Result<FileReader> {
	let closed = false;
	return ok({
		size,
		read(buffer: Buffer, position: number): Result<number> {
			if (closed) return fail('io', rel, 'read after close');
			if (position >= data.length) return ok(0);
			return ok(data.copy(buffer, 0, position, Math.min(data.length, position + buffer.length)));
		},
		close(): void {
			closed = true;
		},
	});
}

/** A reader over a member's byte range in an uncompressed archive opened again as fd (closed with the reader). */
function fileReader(rel: string, m: Member, fd: number): Result<FileReader> {
	let closed = false;
	return ok({
		size: m.size,
		read(buffer: Buffer, position: number): Result<number> {
			if (closed) return fail('io', rel, 'read after close');
			const want = Math.min(buffer.length, m.size - position);
			if (want <= 0) return ok(0);
			try {
				const n = fs.readSync(fd, buffer, 0, want, m.dataOffset + position);
				if (n === 0) return fail('io', rel, 'the archive ends inside this member');
				return ok(n);
			} catch (error) {
				return fail('io', rel, describe(error));
			}
		},
		close(): void {
			if (closed) return;
			closed = true;
			fs.closeSync(fd);
		},
	});
}
