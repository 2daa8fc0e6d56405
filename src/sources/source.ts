/**
 * A read-only view of a Docker root. Every reader goes through a Source, never through
 * `node:fs` directly, so that the same readers work on a directory and (later) on an archive,
 * and so that the safety rules live in one place:
 * - paths are relative to the root, '/'-separated, and may not contain '..' or absolute parts;
 * - no symlink is ever followed (a symlink where a directory or file is expected is an error);
 * - reads are capped: a file larger than the cap is refused, not loaded.
 */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket' | 'other';

export type Entry = {readonly name: string; readonly kind: EntryKind};

/** An entry of listStats: its lstat, or why there is none (as stat's failure). */
export type EntryStat = Entry & {readonly stat: Result<Stat>};

export type Stat = {
	readonly kind: EntryKind;
	readonly size: number;
	readonly mode: number;
	readonly uid: number;
	readonly gid: number;
	readonly mtimeMs: number;
	/** For char/block devices: major and minor numbers. */
	readonly rdev?: {readonly major: number; readonly minor: number};
	/** Identifies the file within the source: hard links to one file share it. */
	readonly ino?: number;
	/** Number of hard links, when the source knows it. */
	readonly nlink?: number;
	/** 512-byte blocks allocated (st_blocks), when the source knows it (never for an archive). */
	readonly blocks?: number;
	/** The device the entry is on (st_dev), when the source knows it: with ino, one file. */
	readonly dev?: number;
};

/** A regular file opened for reading in pieces (see Source.openRead). */
export type FileReader = {
	/** The file's size when it was opened. */
	readonly size: number;
	/** Reads up to buffer.length bytes at position into buffer; 0 at the end of the file. */
	read(buffer: Buffer, position: number): Result<number>;
	/** Releases the file; reading after it fails. */
	close(): void;
};

export type SourceErrorCode =
	| 'missing'
	| 'not-a-file'
	| 'not-a-dir'
	| 'symlink'
	| 'too-large'
	| 'denied'
	| 'bad-path'
	| 'io';

export type SourceError = {readonly code: SourceErrorCode; readonly path: string; readonly message: string};

export type Result<T> = {readonly ok: true; readonly value: T} | {readonly ok: false; readonly error: SourceError};

export type Source = {
	/** 'dir' for a directory on disk, 'archive' for a tarball. */
	readonly kind: 'dir' | 'archive';
	/** Absolute path of the directory or archive. */
	readonly location: string;
	/** Entries of a directory, sorted by name. */
	list(rel: string): Result<Entry[]>;
	/** lstat: never follows a symlink. */
	stat(rel: string): Result<Stat>;
	/**
	 * Optional: list(rel) with each entry's stat(`rel/name`) read in the same call (the same
	 * results as the two calls; the directory source lstat-s every entry beneath the descriptor
	 * it listed through). The disk ledger's walk uses it where a Source has it.
	 */
	listStats?(rel: string): Result<EntryStat[]>;
	/** A regular file's bytes, refused when larger than maxBytes. */
	readFile(rel: string, maxBytes: number): Result<Buffer>;
	/** A symlink's target, as stored. */
	readLink(rel: string): Result<string>;
	/**
	 * Opens a regular file for reading in pieces, for files too large for readFile (layer
	 * contents). The same rules as readFile: never follows a symlink, refuses anything but a
	 * regular file. The caller must close it. Optional: a source without it cannot verify content.
	 */
	openRead?(rel: string): Result<FileReader>;
	/**
	 * Set only where reading contents out of order costs passes over the source (a compressed
	 * archive, read through one inflater): where a regular file's content lies in the stream (-1
	 * when it costs nothing: held in memory or empty; undefined when the path is no readable file;
	 * for a directory, where its contents start). Callers reading many files read them in this
	 * order, so that the source is read once.
	 */
	contentOffset?(rel: string): number | undefined;
	/**
	 * An entry's extended attributes (name → value), never following a symlink; undefined when the
	 * path does not resolve. Optional: a source without it cannot see any.
	 */
	xattrs?(rel: string): Record<string, Buffer> | undefined;
	/**
	 * Why xattrs() may miss attributes that are there (no xattr support on this platform, or
	 * `trusted.*` attributes invisible without root); undefined when it sees them all.
	 */
	readonly xattrLimit?: string | undefined;
	/**
	 * Which of the promises above this source cannot keep here (a directory source read without
	 * the native reader, src/sources/door.ts): reported as the root warning `source.unprotected`.
	 */
	readonly unprotected?: string | undefined;
	/**
	 * Why reading may change access times in the root (O_NOATIME refused, readlink): reported as
	 * the root warning `source.atimes`; undefined when no read changes one. May grow while the
	 * source is read (a refusal is noted when it happens).
	 */
	readonly atimeLimit?: string | undefined;
	/**
	 * Set when another root is mounted into this one (--containerd-root; mounted-source.ts):
	 * paths at or under `at` are read from `location`. Paths stay virtual (relative to this root).
	 */
	readonly mounted?: MountInfo | undefined;
};

/** Another root seen at `at` inside a Source (a system containerd's root at `containerd/daemon`). */
export type MountInfo = {readonly at: string; readonly location: string; readonly kind: 'dir' | 'archive'};

export function ok<T>(value: T): Result<T> {
	return {ok: true, value};
}

export function fail<T>(code: SourceErrorCode, path: string, message: string): Result<T> {
	return {ok: false, error: {code, path, message}};
}

/** Splits and validates a relative path; null when it tries to leave the root. */
const plainPath = /^[^/.\0][^\0]*$/;

export function splitPath(rel: string): string[] | null {
	if (rel === '' || rel === '.') return [];
	// Fast path for the paths readers build: no '.', '..' or empty parts.
	if (plainPath.test(rel) && !rel.includes('/.') && !rel.includes('//') && !rel.endsWith('/')) return rel.split('/');
	if (rel.startsWith('/') || rel.includes('\0')) return null;
	const parts = rel.split('/').filter(p => p !== '' && p !== '.');
	if (parts.some(p => p === '..')) return null;
	return parts;
}

export function joinPath(...parts: string[]): string {
	return parts.filter(p => p !== '').join('/');
}

/** Compares strings by code unit, independent of locale: output must be deterministic. */
export function byString(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}
