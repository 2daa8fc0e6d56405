import os from 'node:os';
import path from 'node:path';
import {
	type Entry,
	type EntryKind,
	type EntryStat,
	type FileReader,
	type Result,
	type Source,
	type SourceErrorCode,
	type Stat,
	byString,
	fail,
	ok,
	splitPath,
} from './source.ts';
import {type Door, doorOptions, loadDoor, modeNoOpenat2} from './door.ts';
import {decodeName, encodeName} from '../formats/names.ts';
import {openNodeFsSource} from './node-fs-source.ts';

const kinds: readonly EntryKind[] = ['other', 'file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket'];

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(os.constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

function errnoName(errno: number): string {
	return errnoNames.get(errno) ?? `errno ${errno}`;
}

function codeOf(errno: number): SourceErrorCode {
	const name = errnoNames.get(errno);
	if (name === 'ENOENT') return 'missing';
	if (name === 'EACCES' || name === 'EPERM') return 'denied';
	if (name === 'ENOTDIR') return 'not-a-dir';
	if (name === 'ELOOP') return 'symlink';
	if (name === 'EINVAL' || name === 'EXDEV') return 'bad-path';
	return 'io';
}

const ELOOP = os.constants.errno.ELOOP;
const ENOTDIR = os.constants.errno.ENOTDIR;
const EINVAL = os.constants.errno.EINVAL;

/** Bytes for the native calls: names holding non-UTF-8 bytes (names.ts) go back to their bytes. */
function bytes(name: string): Buffer {
	return encodeName(name);
}

const empty = Buffer.alloc(0);

/** Directory descriptors kept open (an LRU): most reads are of entries of a directory just listed. */
const dirCacheSize = 256;
/**
 * And at most this many across every Source of the process: a Source has no close(), and its
 * descriptors are closed only when it is garbage-collected, which descriptors do not hasten (a
 * process that opens many roots, such as the test suite, would run out of them).
 */
const processCacheSize = 1024;
/** Every cached directory descriptor of the process, oldest first, with the cache that holds it. */
const cachedFds = new Map<number, {readonly door: Door; readonly fds: Map<string, number>; readonly dir: string}>();

function rememberFd(door: Door, fds: Map<string, number>, dir: string, fd: number): void {
	if (fds.size >= dirCacheSize) {
		const [oldest, old] = fds.entries().next().value as [string, number];
		fds.delete(oldest);
		cachedFds.delete(old);
		door.close(old);
	}
	if (cachedFds.size >= processCacheSize) {
		const [old, held] = cachedFds.entries().next().value as [
			number,
			{door: Door; fds: Map<string, number>; dir: string},
		];
		cachedFds.delete(old);
		held.fds.delete(held.dir);
		held.door.close(old);
	}
	fds.set(dir, fd);
	cachedFds.set(fd, {door, fds, dir});
}

const closer = new FinalizationRegistry<{door: Door; fds: Map<string, number>; rootfd: number}>(held => {
	for (const fd of held.fds.values()) {
		cachedFds.delete(fd);
		held.door.close(fd);
	}
	if (held.rootfd >= 0) held.door.close(held.rootfd);
});

/**
 * A Source over a directory, through the native door (door.ts, native/door.c): the root is
 * opened once (and, where allowed, cloned into a private read-only noatime mount); every path
 * is resolved beneath it with no symlink followed at any component (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, or an openat(O_NOFOLLOW) walk), even when the root changes while it is
 * read; everything is opened read-only with O_NOATIME, directories included. Where the native
 * reader is not built, a node:fs source that says what it cannot promise (node-fs-source.ts).
 */
export function openDirSource(root: string): Source {
	const location = path.resolve(root);
	const options = doorOptions();
	const door = options.node ? 'LAYERLENS_DOOR=node is set' : loadDoor();
	if (typeof door === 'string') return openNodeFsSource(location, door);
	return openDoorSource(door, location, options);
}

/** The state of a directory Source read through the door: its root descriptor, cached directory descriptors, counters. */
class DoorReader {
	private readonly door: Door;
	readonly rootfd: number;
	private readonly openErrno: number;
	private readonly mode: number;
	readonly fds = new Map<string, number>();
	// kind, size, mode, uid, gid, mtimeMs, ino, nlink, major, minor, then st_blocks and st_dev (-1: a native reader built before it wrote them).
	private readonly statOut = new Float64Array(12);
	/** Entries on which O_NOATIME was refused so far. */
	atimeRefused = 0;

	constructor(door: Door, rootfd: number, openErrno: number, mode: number) {
		this.door = door;
		this.rootfd = rootfd;
		this.openErrno = openErrno;
		this.mode = mode;
	}

	private failAt<T>(errno: number, rel: string, kindHint?: () => EntryKind | undefined): Result<T> {
		if (errno === ELOOP) return fail('symlink', rel, 'is a symlink; not followed');
		if (errno === ENOTDIR) {
			const kind = kindHint?.();
			return fail('not-a-dir', rel, kind === undefined ? 'not a directory' : `is a ${kind}, not a directory`);
		}
		return fail(codeOf(errno), rel, errnoName(errno));
	}

	/** The descriptor of a directory (relative path, already validated), from the cache or opened. */
	private dirFd(dir: string): Result<number> {
		if (this.rootfd < 0) return fail(codeOf(this.openErrno), '', errnoName(this.openErrno));
		if (dir === '') return ok(this.rootfd);
		const fds = this.fds;
		const hit = fds.get(dir);
		if (hit !== undefined) {
			fds.delete(dir);
			fds.set(dir, hit);
			const held = cachedFds.get(hit);
			if (held !== undefined) {
				cachedFds.delete(hit);
				cachedFds.set(hit, held);
			}
			return ok(hit);
		}
		const r = this.door.openDir(this.rootfd, bytes(dir), this.mode);
		if (typeof r === 'number') {
			rememberFd(this.door, fds, dir, r);
			return ok(r);
		}
		const [errno, at] = r;
		const failed = dir
			.split('/')
			.slice(0, at + 1)
			.join('/');
		return this.failAt(errno, failed, () => this.kindAt(failed));
	}

	private lstatAt(dir: string, name: string): Result<number> {
		const d = this.dirFd(dir);
		if (!d.ok) return d;
		this.statOut[10] = -1;
		this.statOut[11] = -1;
		return ok(this.door.statAt(d.value, name === '' ? empty : bytes(name), this.statOut));
	}

	private kindAt(rel: string): EntryKind | undefined {
		const loc = locate(rel);
		if (loc === null) return undefined;
		const r = this.lstatAt(loc.dir, loc.name);
		return r.ok && r.value === 0 ? kinds[this.statOut[0]!] : undefined;
	}

	list(rel: string): Result<Entry[]> {
		const loc = locate(rel);
		if (loc === null) return fail('bad-path', rel, 'path leaves the root');
		const d = this.dirFd(loc.dir);
		if (!d.ok) return d;
		const r = this.door.listAt(d.value, loc.name === '' ? empty : bytes(loc.name));
		// As every directory on a path, the one listed is named as resolved (`./a//b` fails as `a/b`), like the archive Source.
		const resolved = loc.dir === '' ? loc.name : `${loc.dir}/${loc.name}`;
		if (typeof r === 'number') return this.failAt(r, resolved, () => this.kindAt(resolved));
		const [packed, refused] = r;
		if (refused === 1) this.atimeRefused++;
		const entries: Entry[] = [];
		for (let i = 0; i < packed.length; ) {
			const end = packed.indexOf(0, i + 1);
			entries.push({name: decodeName(packed, i + 1, end), kind: kinds[packed[i]!] ?? 'other'});
			i = end + 1;
		}
		entries.sort((a, b) => byString(a.name, b.name));
		return ok(entries);
	}

	stat(rel: string): Result<Stat> {
		const loc = locate(rel);
		if (loc === null) return fail('bad-path', rel, 'path leaves the root');
		const r = this.lstatAt(loc.dir, loc.name);
		if (!r.ok) return r;
		if (r.value !== 0) return fail(codeOf(r.value), rel, errnoName(r.value));
		return ok(statOf(this.statOut, 0));
	}

	/** list and every entry's stat in one native call; undefined when the native reader has no listStatAt. */
	listStats(rel: string): Result<EntryStat[]> | undefined {
		const listStatAt = this.door.listStatAt;
		if (listStatAt === undefined) return undefined;
		const loc = locate(rel);
		if (loc === null) return fail('bad-path', rel, 'path leaves the root');
		const d = this.dirFd(loc.dir);
		if (!d.ok) return d;
		const r = listStatAt.call(this.door, d.value, loc.name === '' ? empty : bytes(loc.name));
		const resolved = loc.dir === '' ? loc.name : `${loc.dir}/${loc.name}`;
		if (typeof r === 'number') return this.failAt(r, resolved, () => this.kindAt(resolved));
		const [packed, statBytes, refused] = r;
		if (refused === 1) this.atimeRefused++;
		// A Float64Array needs an 8-byte-aligned offset: copied where the Buffer's is not.
		const aligned = statBytes.byteOffset % 8 === 0 ? statBytes : Buffer.from(statBytes);
		const stats = new Float64Array(aligned.buffer, aligned.byteOffset, aligned.length / 8);
		const entries: EntryStat[] = [];
		for (let i = 0, n = 0; i < packed.length; n++) {
			const end = packed.indexOf(0, i + 1);
			const name = decodeName(packed, i + 1, end);
			const errno = stats[n * 13]!;
			const path = resolved === '' ? name : `${resolved}/${name}`;
			const stat: Result<Stat> =
				errno === 0 ? ok(statOf(stats, n * 13 + 1)) : fail(codeOf(errno), path, errnoName(errno));
			entries.push({name, kind: kinds[packed[i]!] ?? 'other', stat});
			i = end + 1;
		}
		entries.sort((a, b) => byString(a.name, b.name));
		return ok(entries);
	}

	/** Opens a regular file for reading: [fd, size]; a symlink, directory or anything else is refused. */
	private openFile(rel: string): Result<[number, number]> {
		const loc = locate(rel);
		if (loc === null || loc.name === '') return fail('bad-path', rel, 'path leaves the root');
		const d = this.dirFd(loc.dir);
		if (!d.ok) return d;
		const r = this.door.openAt(d.value, bytes(loc.name));
		if (typeof r === 'number') return fail(codeOf(r), rel, errnoName(r));
		const [fd, kindNo, size, refused] = r;
		if (refused === 1) this.atimeRefused++;
		const kind = kinds[kindNo] ?? 'other';
		if (fd < 0)
			return kind === 'symlink'
				? fail('symlink', rel, 'is a symlink; not followed')
				: fail('not-a-file', rel, `is a ${kind}, not a regular file`);
		return ok([fd, size]);
	}

	readFile(rel: string, maxBytes: number): Result<Buffer> {
		const opened = this.openFile(rel);
		if (!opened.ok) return opened;
		const [fd, size] = opened.value;
		const door = this.door;
		try {
			if (size > maxBytes) return fail('too-large', rel, `is ${size} bytes, over the ${maxBytes}-byte cap`);
			// Ask for one byte more than the size: a short read means end of file (one read for most
			// files), and a file that grew under us past the cap is still caught.
			const buffer = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
			let total = 0;
			for (;;) {
				const n = door.pread(fd, total === 0 ? buffer : buffer.subarray(total), total);
				if (n < 0) return fail(codeOf(-n), rel, errnoName(-n));
				total += n;
				if (n === 0 || total === buffer.length || total === size) break;
			}
			if (total > maxBytes) return fail('too-large', rel, `is over the ${maxBytes}-byte cap`);
			return ok(buffer.subarray(0, total));
		} finally {
			door.close(fd);
		}
	}

	openRead(rel: string): Result<FileReader> {
		const opened = this.openFile(rel);
		if (!opened.ok) return opened;
		const [fd, size] = opened.value;
		const door = this.door;
		let closed = false;
		return ok({
			size,
			read(buffer: Buffer, position: number): Result<number> {
				if (closed) return fail('io', rel, 'read after close');
				const n = door.pread(fd, buffer, position);
				return n < 0 ? fail(codeOf(-n), rel, errnoName(-n)) : ok(n);
			},
			close(): void {
				if (closed) return;
				closed = true;
				door.close(fd);
			},
		});
	}

	readLink(rel: string): Result<string> {
		const loc = locate(rel);
		if (loc === null || loc.name === '') return fail('bad-path', rel, 'path leaves the root');
		const d = this.dirFd(loc.dir);
		if (!d.ok) return d;
		const r = this.door.readlinkAt(d.value, bytes(loc.name));
		if (typeof r === 'number')
			return r === EINVAL ? fail('not-a-file', rel, 'is not a symlink') : fail(codeOf(r), rel, errnoName(r));
		return ok(decodeName(r));
	}

	xattrs(rel: string): Record<string, Buffer> | undefined {
		const loc = locate(rel);
		if (loc === null) return undefined;
		const d = this.dirFd(loc.dir);
		if (!d.ok) return undefined;
		const r = this.door.xattrsAt(d.value, loc.name === '' ? empty : bytes(loc.name));
		if (typeof r === 'number') return undefined;
		const out: Record<string, Buffer> = {};
		// Evidence names as keys: defined as own properties, so `__proto__` is a name, not the prototype.
		for (let i = 0; i + 1 < r.length; i += 2)
			Object.defineProperty(out, decodeName(r[i]!), {
				value: r[i + 1]!,
				enumerable: true,
				writable: true,
				configurable: true,
			});
		return out;
	}
}

/** A Stat from the door's doubles at `at`: kind, size, mode, uid, gid, mtimeMs, ino, nlink, major, minor, blocks, dev (blocks -1: not written). */
function statOf(s: Float64Array, at: number): Stat {
	const kind = kinds[s[at]!] ?? 'other';
	const known = s[at + 10]! >= 0 ? {blocks: s[at + 10]!, dev: s[at + 11]!} : {};
	const base = {
		kind,
		size: s[at + 1]!,
		mode: s[at + 2]!,
		uid: s[at + 3]!,
		gid: s[at + 4]!,
		mtimeMs: s[at + 5]!,
		ino: s[at + 6]!,
		nlink: s[at + 7]!,
		...known,
	};
	if (kind === 'char' || kind === 'block') return {...base, rdev: {major: s[at + 8]!, minor: s[at + 9]!}};
	return base;
}

/** A path as its directory and last name ('' and '' for the root). */
function locate(rel: string): {dir: string; name: string} | null {
	const parts = splitPath(rel);
	if (parts === null) return null;
	if (parts.length === 0) return {dir: '', name: ''};
	const name = parts.pop()!;
	return {dir: parts.join('/'), name};
}

/** What the door cannot see here (xattrLimit), and what changes access times whatever it reads (undefined when sealed). */
function doorLimits(
	door: Door,
	rootfd: number,
	sealed: boolean,
): {xattrLimit: string | undefined; fixedAtimeLimit: string | undefined} {
	const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
	// xattrsAt goes through /proc/self/fd: without /proc it cannot see any.
	const noProc = rootfd >= 0 && door.xattrsAt(rootfd, empty) === os.constants.errno.ENOENT;
	const xattrLimit = noProc
		? 'extended attributes cannot be read here: /proc is not mounted (the native reader reads them through /proc/self/fd)'
		: uid !== 0
			? `trusted.* extended attributes (overlayfs opaque markers) are visible only to root; running as uid ${uid}`
			: undefined;
	const fixedAtimeLimit = sealed
		? undefined
		: [
				// do_readlinkat() calls touch_atime() whatever the open flags: only a noatime or read-only mount avoids it.
				"symlink targets are read with readlinkat, which updates a symlink's access time (O_NOATIME does not apply to it; the read-only noatime private mount that prevents it needs root and Linux 5.12)",
				door.capFowner() === 1
					? undefined
					: `O_NOATIME is refused on files and directories that uid ${uid} does not own, so reading those updates their access times`,
			]
				.filter(s => s !== undefined)
				.join('; ');
	return {xattrLimit, fixedAtimeLimit};
}

function openDoorSource(door: Door, location: string, options: ReturnType<typeof doorOptions>): Source {
	const opened = door.openRoot(bytes(location), options.unsealed ? 1 : 0);
	const rootfd = typeof opened === 'number' ? -1 : opened[0];
	const openErrno = typeof opened === 'number' ? opened : 0;
	const sealed = typeof opened !== 'number' && opened[1] === 1;
	const reader = new DoorReader(door, rootfd, openErrno, options.walk ? modeNoOpenat2 : 0);
	const {xattrLimit, fixedAtimeLimit} = doorLimits(door, rootfd, sealed);

	const source: Source = {
		kind: 'dir',
		location,
		list: rel => reader.list(rel),
		stat: rel => reader.stat(rel),
		...(door.listStatAt === undefined ? {} : {listStats: (rel: string) => reader.listStats(rel)!}),
		readFile: (rel, maxBytes) => reader.readFile(rel, maxBytes),
		readLink: rel => reader.readLink(rel),
		openRead: rel => reader.openRead(rel),
		xattrs: rel => reader.xattrs(rel),
		xattrLimit,
		get atimeLimit(): string | undefined {
			if (sealed) return undefined;
			const refused =
				reader.atimeRefused > 0 && door.capFowner() === 1
					? `O_NOATIME was refused on ${reader.atimeRefused} entries, whose access times were updated`
					: undefined;
			return [fixedAtimeLimit, refused].filter(s => s !== undefined && s !== '').join('; ') || undefined;
		},
	};
	if (rootfd >= 0) closer.register(source, {door, fds: reader.fds, rootfd});
	return source;
}
