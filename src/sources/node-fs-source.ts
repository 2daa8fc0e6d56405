import fs from 'node:fs';
import path from 'node:path';
import {
	type Entry,
	type EntryKind,
	type FileReader,
	type Result,
	type Source,
	type Stat,
	byString,
	fail,
	ok,
	splitPath,
} from './source.ts';
import {decodeName, encodeName} from '../formats/names.ts';

/** O_NOATIME keeps reads from touching access times on evidence; Linux only, and only for the owner or root. */
const noAtime = fs.constants.O_NOATIME ?? 0;
// O_NONBLOCK: a FIFO planted where a file should be must not hang the reader (it is refused after fstat).
const readFlags =
	fs.constants.O_RDONLY |
	(fs.constants.O_NOFOLLOW ?? 0) |
	(fs.constants.O_NONBLOCK ?? 0) |
	(fs.constants.O_NOCTTY ?? 0);

function kindOf(s: fs.Stats | fs.Dirent<string | Buffer>): EntryKind {
	if (s.isFile()) return 'file';
	if (s.isDirectory()) return 'dir';
	if (s.isSymbolicLink()) return 'symlink';
	if (s.isCharacterDevice()) return 'char';
	if (s.isBlockDevice()) return 'block';
	if (s.isFIFO()) return 'fifo';
	if (s.isSocket()) return 'socket';
	return 'other';
}

/** A path for node:fs: names holding non-UTF-8 bytes (names.ts) go back to their bytes. */
function fsPath(p: string): string | Buffer {
	return /[\ud800-\udfff]/.test(p) ? encodeName(p) : p;
}

/** A single path component that needs no further checks. */
function plainName(name: string): boolean {
	return name !== '' && name !== '.' && name !== '..' && !name.includes('\0');
}

function errorCode(error: unknown): 'missing' | 'denied' | 'not-a-dir' | 'symlink' | 'io' {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	if (code === 'ENOENT') return 'missing';
	if (code === 'EACCES' || code === 'EPERM') return 'denied';
	if (code === 'ENOTDIR') return 'not-a-dir';
	if (code === 'ELOOP') return 'symlink';
	return 'io';
}

function describe(error: unknown): string {
	const e = error as NodeJS.ErrnoException | undefined;
	return e?.code ?? (e instanceof Error ? e.message : String(error));
}

/** The state of a node:fs directory Source: its root and the directories already checked. */
class NodeFsReader {
	private readonly location: string;
	private readonly checkedDirs = new Set<string>(['']);
	private useNoAtime = noAtime !== 0;

	constructor(location: string) {
		this.location = location;
	}

	private abs(parts: string[]): string {
		return parts.length === 0 ? this.location : `${this.location}/${parts.join('/')}`;
	}

	/** Checks that every component of a directory path is a real directory (not a symlink). */
	private checkDir(parts: string[]): Result<true> {
		let rel = '';
		for (let i = 0; i < parts.length; i++) {
			rel = i === 0 ? parts[0]! : `${rel}/${parts[i]!}`;
			if (this.checkedDirs.has(rel)) continue;
			let s: fs.Stats;
			try {
				s = fs.lstatSync(fsPath(`${this.location}/${rel}`));
			} catch (error) {
				return fail(errorCode(error), rel, describe(error));
			}
			if (s.isSymbolicLink()) return fail('symlink', rel, 'is a symlink; not followed');
			if (!s.isDirectory()) return fail('not-a-dir', rel, `is a ${kindOf(s)}, not a directory`);
			this.checkedDirs.add(rel);
		}
		return ok(true);
	}

	list(rel: string): Result<Entry[]> {
		const parts = splitPath(rel);
		if (parts === null) return fail('bad-path', rel, 'path leaves the root');
		const checked = this.checkDir(parts);
		if (!checked.ok) return checked;
		let dirents: fs.Dirent<Buffer>[];
		try {
			dirents = fs.readdirSync(fsPath(this.abs(parts)), {withFileTypes: true, encoding: 'buffer'});
		} catch (error) {
			return fail(errorCode(error), rel, describe(error));
		}
		const entries = dirents.map(d => ({name: decodeName(d.name), kind: kindOf(d)}));
		entries.sort((a, b) => byString(a.name, b.name));
		const prefix = parts.join('/');
		for (const e of entries) if (e.kind === 'dir') this.checkedDirs.add(prefix === '' ? e.name : `${prefix}/${e.name}`);
		return ok(entries);
	}

	stat(rel: string): Result<Stat> {
		const parts = splitPath(rel);
		if (parts === null) return fail('bad-path', rel, 'path leaves the root');
		const checked = this.checkDir(parts.slice(0, -1));
		if (!checked.ok) return checked;
		try {
			const s = fs.lstatSync(fsPath(this.abs(parts)));
			const kind = kindOf(s);
			const base = {
				kind,
				size: s.size,
				mode: s.mode,
				uid: s.uid,
				gid: s.gid,
				mtimeMs: s.mtimeMs,
				ino: s.ino,
				nlink: s.nlink,
				blocks: s.blocks,
				dev: s.dev,
			};
			if (kind === 'char' || kind === 'block') {
				return ok({
					...base,
					rdev: {major: Math.floor(s.rdev / 256) & 0xfff, minor: (s.rdev & 0xff) | ((s.rdev >> 12) & 0xfff00)},
				});
			}
			return ok(base);
		} catch (error) {
			return fail(errorCode(error), rel, describe(error));
		}
	}

	private open(file: string): number {
		if (this.useNoAtime) {
			try {
				return fs.openSync(fsPath(file), readFlags | noAtime);
			} catch (error) {
				// O_NOATIME is refused (EPERM) on files we do not own; fall back once and for all.
				if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
				this.useNoAtime = false;
			}
		}
		return fs.openSync(fsPath(file), readFlags);
	}

	/** Validates a file path and checks its directory; the common case (directory already checked) costs one Set lookup. */
	private filePath(rel: string): Result<string> {
		const slash = rel.lastIndexOf('/');
		if (slash > 0 && this.checkedDirs.has(rel.slice(0, slash)) && plainName(rel.slice(slash + 1)))
			return ok(`${this.location}/${rel}`);
		const parts = splitPath(rel);
		if (parts === null || parts.length === 0) return fail('bad-path', rel, 'path leaves the root');
		const checked = this.checkDir(parts.slice(0, -1));
		if (!checked.ok) return checked;
		return ok(this.abs(parts));
	}

	/** Opens a file read-only, refusing a symlink as the last component; the caller closes the fd. */
	private openFile(rel: string): Result<number> {
		const file = this.filePath(rel);
		if (!file.ok) return file;
		try {
			return ok(this.open(file.value));
		} catch (error) {
			const code = errorCode(error);
			if (code === 'symlink') return fail('symlink', rel, 'is a symlink; not followed');
			return fail(code, rel, describe(error));
		}
	}

	readFile(rel: string, maxBytes: number): Result<Buffer> {
		const opened = this.openFile(rel);
		if (!opened.ok) return opened;
		const fd = opened.value;
		try {
			const s = fs.fstatSync(fd);
			if (!s.isFile()) return fail('not-a-file', rel, `is a ${kindOf(s)}, not a regular file`);
			if (s.size > maxBytes) return fail('too-large', rel, `is ${s.size} bytes, over the ${maxBytes}-byte cap`);
			// Ask for one byte more than the size: a short read means end of file (one read for most
			// files), and a file that grew under us past the cap is still caught.
			const buffer = Buffer.allocUnsafe(Math.min(s.size, maxBytes) + 1);
			let total = 0;
			for (;;) {
				const n = fs.readSync(fd, buffer, total, buffer.length - total, null);
				total += n;
				if (n === 0 || total === buffer.length || total === s.size) break;
			}
			if (total > maxBytes) return fail('too-large', rel, `is over the ${maxBytes}-byte cap`);
			return ok(buffer.subarray(0, total));
		} catch (error) {
			return fail(errorCode(error), rel, describe(error));
		} finally {
			fs.closeSync(fd);
		}
	}

	openRead(rel: string): Result<FileReader> {
		const opened = this.openFile(rel);
		if (!opened.ok) return opened;
		const fd = opened.value;
		let size: number;
		try {
			const s = fs.fstatSync(fd);
			if (!s.isFile()) {
				fs.closeSync(fd);
				return fail('not-a-file', rel, `is a ${kindOf(s)}, not a regular file`);
			}
			size = s.size;
		} catch (error) {
			fs.closeSync(fd);
			return fail(errorCode(error), rel, describe(error));
		}
		let closed = false;
		return ok({
			size,
			read(buffer: Buffer, position: number): Result<number> {
				if (closed) return fail('io', rel, 'read after close');
				try {
					return ok(fs.readSync(fd, buffer, 0, buffer.length, position));
				} catch (error) {
					return fail(errorCode(error), rel, describe(error));
				}
			},
			close(): void {
				if (closed) return;
				closed = true;
				fs.closeSync(fd);
			},
		});
	}

	readLink(rel: string): Result<string> {
		const parts = splitPath(rel);
		if (parts === null || parts.length === 0) return fail('bad-path', rel, 'path leaves the root');
		const checked = this.checkDir(parts.slice(0, -1));
		if (!checked.ok) return checked;
		try {
			return ok(decodeName(fs.readlinkSync(fsPath(this.abs(parts)), {encoding: 'buffer'})));
		} catch (error) {
			const e = error as NodeJS.ErrnoException;
			if (e.code === 'EINVAL') return fail('not-a-file', rel, 'is not a symlink');
			return fail(errorCode(error), rel, describe(error));
		}
	}
}

/**
 * The fallback Source over a directory, where the native reader (door.ts) is not there: node:fs
 * only. Every directory on a path is checked with lstat before it is entered (and remembered),
 * so a symlinked directory is not followed when the root holds still; files are opened with
 * O_NOFOLLOW (and O_NOATIME where allowed) and never with a write flag. What it cannot promise
 * (`why` says why the native reader is missing) is told through `unprotected`: a directory
 * swapped for a symlink between the check and the open is followed, directories are listed
 * without O_NOATIME, and extended attributes are not read.
 */
export function openNodeFsSource(root: string, why: string): Source {
	const location = path.resolve(root);
	const reader = new NodeFsReader(location);
	const unprotected = `${why}; reading through node:fs instead, which checks only a path's last component for a symlink when it opens it (a directory swapped for a symlink while the root is read, as on a live host, can be followed out of the root), lists directories without O_NOATIME (their access times change), and reads no extended attributes`;
	const xattrLimit = `extended attributes cannot be read without the native reader (${why})`;
	const atimeLimit =
		'directories are listed without O_NOATIME and symlinks read with readlink, so their access times change';

	return {
		kind: 'dir',
		location,
		list: rel => reader.list(rel),
		stat: rel => reader.stat(rel),
		readFile: (rel, maxBytes) => reader.readFile(rel, maxBytes),
		readLink: rel => reader.readLink(rel),
		openRead: rel => reader.openRead(rel),
		xattrLimit,
		unprotected,
		atimeLimit,
	};
}
