import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
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
import {type TarHeader, TarParser, quote} from '../formats/tar-format.ts';
import {type SyncGunzip, syncGunzip} from '../formats/gunzip-sync.ts';
import {driverRecordDirs, driverRecordFiles} from './driver-dirs.ts';

/**
 * A Source over a tarball (.tar, or gzip-compressed .tar.gz/.tgz, detected by magic bytes).
 *
 * The archive is streamed once. Every header is kept in an in-memory index (a trie of names);
 * content is kept in memory only for small (≤ maxMemberBytes) metadata files of the Docker root
 * (see isMetadata). Other content is read again on demand, in bounded memory, whatever the size:
 * - uncompressed tar: the member's byte range is read directly from the file;
 * - gzip: one live inflater (GzipCursor) streams the archive from its start up to the member and
 *   then on through it; reads at increasing offsets continue where it is, a read before it starts
 *   inflating again from the beginning (one more pass). contentOffset() tells callers where each
 *   member's content is, so that they can read many members in one pass (export, check --deep).
 *   An archive whose tar stream is at most 64 MiB is inflated whole on the first content read and
 *   held through a WeakRef (reads in any order then cost nothing more).
 * The archive file is opened with O_NOATIME where allowed, so reading it leaves its access time.
 *
 * The Docker root inside the archive is the shallowest directory holding an image/, containers/
 * or graph/ directory (the archive may wrap it in docker/, var/lib/docker/, ...); members
 * outside it are ignored. The archive is never trusted: members with '..' are dropped, the last
 * of duplicate members wins, a bad header ends parsing while what was read stays usable, and
 * every such event is recorded in `problems`.
 *
 * Differences from the extracted directory that cannot be avoided: a directory's size is 0
 * (the file system would report its block size), implied directories (no member of their own)
 * read as mode 0755, owner 0:0, mtime 0, and uid/gid are the numeric fields as stored (tar
 * extraction may map owner names).
 */
export type TarSource = Source & {
	/** Where the Docker root starts inside the archive ('' for the top level). */
	readonly root: string;
	/** False when the archive ended before its end-of-archive marker or a header was bad. */
	readonly complete: boolean;
	/** Damage, truncation and refused members, in archive order (capped). */
	readonly problems: string[];
	/** An entry's extended attributes (PAX SCHILY.xattr.*); undefined when the path does not resolve. */
	xattrs(rel: string): Record<string, Buffer> | undefined;
	/** Times content was inflated from the start of a compressed archive so far (passes after the first, indexing one). */
	readonly passes: number;
};

export type TarSourceOptions = {
	/** Called with the number of archive bytes (compressed, as stored) read so far. */
	onProgress?: ((bytes: number) => void) | undefined;
	/** Largest metadata member kept in memory (default 1 MiB, at most 64 MiB). */
	maxMemberBytes?: number | undefined;
	/**
	 * What the archive holds: a Docker root (default), or a containerd root (--containerd-root),
	 * found by its io.containerd.* directories, whose meta.db, snapshotter databases and blobs are kept.
	 */
	layout?: 'docker' | 'containerd' | undefined;
	/** A compressed archive whose tar stream is at most this large is held whole once content is read (default 64 MiB; 0: never). */
	holdWholeBytes?: number | undefined;
};

/** Compressed bytes pushed into the inflater at a time: each push inflates to at most ~1032 times as much (8.3 MiB). */
const INFLATE_PIECE = 8 << 10;
/** A compressed archive whose tar stream is at most this large is held whole in memory once content is read from it (the default of holdWholeBytes). */
const SMALL_INFLATED = 64 << 20;
const MAX_PROBLEMS = 1000;
const MAX_MEMBER_CAP = 64 << 20;
/** Longest member name accepted, and longest component (Linux NAME_MAX, in bytes). */
const MAX_NAME_CHARS = 16384;
const MAX_COMPONENT_BYTES = 255;

const S_IFMT: Record<EntryKind, number> = {
	file: 0o100000,
	dir: 0o040000,
	symlink: 0o120000,
	char: 0o020000,
	block: 0o060000,
	fifo: 0o010000,
	socket: 0o140000,
	other: 0,
};

type Member = {
	readonly kind: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';
	readonly size: number;
	readonly mode: number;
	readonly uid: number;
	readonly gid: number;
	readonly mtimeMs: number;
	readonly linkname: string;
	readonly devmajor: number;
	readonly devminor: number;
	readonly xattrs: Record<string, Buffer> | undefined;
	readonly dataOffset: number;
	/** Names this member has in the archive (itself and its hard links). */
	links: number;
	/** Cached content (metadata files only). */
	data: Buffer | undefined;
	/** Why the content cannot be read (truncated, sparse). */
	unreadable: string | undefined;
	/** While parsing: root depths at which this member's path is a metadata path. */
	depths: number[] | undefined;
};

/** A hard link, kept as such; it resolves to the member it named when it was read. */
type HardLink = {readonly kind: 'hardlink'; readonly linkname: string; readonly target: Member};

type TNode = {entry: Member | HardLink | undefined; children: Map<string, TNode> | undefined};

const markers = new Set(['image', 'containers', 'graph']);
/** What marks a containerd root (--containerd-root: /var/lib/containerd, or a copy of it). */
export function isContainerdMarker(name: string): boolean {
	return name === 'io.containerd.metadata.v1.bolt' || name === 'io.containerd.content.v1.content' || name.startsWith('io.containerd.snapshotter.v1.');
}

/** Whether parts[k..] (a path relative to a containerd root at depth k) is meta.db, a snapshotter's metadata.db or a content blob (manifests and configs are small). */
function isContainerdMetadata(parts: readonly string[], k: number): boolean {
	const n = parts.length - k;
	const area = parts[k] ?? '';
	if (n === 2) return (area === 'io.containerd.metadata.v1.bolt' && parts[k + 1] === 'meta.db') || (area.startsWith('io.containerd.snapshotter.v1.') && parts[k + 1] === 'metadata.db');
	return n === 4 && area === 'io.containerd.content.v1.content' && parts[k + 1] === 'blobs';
}

/** Whether a directory at parts[k..] (relative to a containerd root) can hold what isContainerdMetadata keeps. */
function mayHoldContainerdMetadata(parts: readonly string[], k: number): boolean {
	const n = parts.length - k;
	if (n <= 0) return true;
	const area = parts[k] ?? '';
	if (area === 'io.containerd.content.v1.content') return n === 1 || (parts[k + 1] === 'blobs' && n <= 3);
	return n === 1 && (area === 'io.containerd.metadata.v1.bolt' || area.startsWith('io.containerd.snapshotter.v1.'));
}

/** Whether a directory at parts (relative to the root) can hold metadata files: the walk after parsing descends only there. */
function mayHoldMetadata(parts: readonly string[], containerd: boolean): boolean {
	if (containerd) return mayHoldContainerdMetadata(parts, 0);
	if (parts[0] === 'image') return true;
	if (parts[0] === 'containerd' && parts[1] === 'daemon') return mayHoldContainerdMetadata(parts, 2);
	return parts.length < 3;
}
const containerMetadata = new Set(['config.v2.json', 'hostconfig.json', 'config.json']);

/** Whether parts[k..] (a path relative to a root at depth k) is a metadata file worth caching. */
function isMetadata(parts: readonly string[], k: number): boolean {
	const n = parts.length - k;
	if (n < 2) return false;
	const first = parts[k];
	if (first === 'image') return true;
	// The containerd image store: meta.db, the snapshotters' metadata.db, content blobs (manifests and configs are small).
	if (first === 'containerd' && parts[k + 1] === 'daemon') return isContainerdMetadata(parts, k + 2);
	const last = parts[parts.length - 1] ?? '';
	// The daemon's bbolt databases: volumes, networks, BuildKit's cache records.
	if (first === 'volumes' && n === 2 && last === 'metadata.db') return true;
	if (first === 'network' && n === 3 && parts[k + 1] === 'files' && last === 'local-kv.db') return true;
	if (first === 'buildkit' && (n === 2 || n === 3) && last === 'metadata_v2.db') return true;
	if (n !== 3) return false;
	if (first === 'containers') return containerMetadata.has(last);
	// Driver records read for every layer: aufs layers files, devicemapper device records, btrfs quotas.
	if (driverRecordDirs.has(`${first}/${parts[k + 1]}`)) return true;
	return driverRecordFiles.has(last);
}

function resolve(entry: Member | HardLink): Member {
	return entry.kind === 'hardlink' ? entry.target : entry;
}

function nodeKind(node: TNode): EntryKind {
	return node.entry === undefined ? 'dir' : resolve(node.entry).kind;
}

/** Splits a stored member name: strips leading '/' and './', drops empty and '.' parts; null with '..'. */
function normalise(name: string): string[] | null {
	const parts = name.split('/').filter(p => p !== '' && p !== '.');
	return parts.some(p => p === '..') ? null : parts;
}

function describe(error: unknown): string {
	const e = error as NodeJS.ErrnoException | undefined;
	if (e?.code !== undefined) return e.code;
	return error instanceof Error ? error.message : String(error);
}

const noAtime = fs.constants.O_NOATIME ?? 0;

/**
 * Opens the archive file for reading with O_NOATIME, so that reading it does not change its access
 * time; falls back to a plain open when refused (EPERM: a file another user owns, as non-root).
 */
function openArchive(location: string): number {
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
					n += this.pending.copy(buffer, n, at - this.outPos, Math.min(this.pending.length, at - this.outPos + length - n));
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
			return {ok: false, message: e.code !== undefined && e.code.startsWith('Z_') ? `gzip: ${e.message}` : `cannot read the archive again: ${describe(error)}`};
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

type Format = {gzip: boolean} | {error: string};

function detectFormat(head: Buffer, size: number): Format {
	if (size === 0) return {error: 'empty file: not a tar archive'};
	if (head[0] === 0x1f && head[1] === 0x8b) return {gzip: true};
	if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
		return {error: 'zstd-compressed archive: not supported (decompress it first, e.g. `zstd -d`, and open the .tar)'};
	}
	if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
		return {error: 'xz-compressed archive: not supported (decompress it first, e.g. `xz -d`, and open the .tar)'};
	}
	if (head.toString('latin1', 0, 3) === 'BZh') {
		return {error: 'bzip2-compressed archive: not supported (decompress it first, e.g. `bzip2 -d`, and open the .tar)'};
	}
	return {gzip: false};
}

/** Streams the file (through gunzip when asked) into the parser; resolves with a stream error, if any. */
function scan(file: string, gzip: boolean, parser: TarParser, onProgress: ((bytes: number) => void) | undefined): Promise<string | undefined> {
	return new Promise(resolvePromise => {
		let settled = false;
		let read = 0;
		let fd: number;
		try {
			fd = openArchive(file);
		} catch (error) {
			resolvePromise(`read error: ${describe(error)}`);
			return;
		}
		const src = fs.createReadStream('', {fd, highWaterMark: 1 << 20});
		const gunzip = gzip ? zlib.createGunzip({chunkSize: 1 << 16}) : undefined;
		const finish = (error: string | undefined): void => {
			if (settled) return;
			settled = true;
			src.destroy();
			gunzip?.destroy();
			resolvePromise(error);
		};
		src.on('error', error => finish(`read error: ${describe(error)}`));
		src.on('data', chunk => {
			read += chunk.length;
			if (onProgress === undefined) return;
			try {
				onProgress(read);
			} catch {
				// A failing progress callback must not break reading.
			}
		});
		const out = gunzip ?? src;
		if (gunzip !== undefined) {
			gunzip.on('error', error => finish(`gzip: ${error.message}`));
			src.pipe(gunzip);
		}
		out.on('data', (chunk: Buffer) => {
			if (settled) return;
			let more: boolean;
			try {
				more = parser.push(chunk);
			} catch (error) {
				finish(`internal error while parsing: ${describe(error)}`);
				return;
			}
			if (!more) finish(undefined);
		});
		out.on('end', () => finish(undefined));
	});
}

export async function openTarSource(file: string, opts: TarSourceOptions = {}): Promise<Result<TarSource>> {
	const location = path.resolve(file);
	try {
		return await open(location, opts);
	} catch (error) {
		return fail('io', location, `cannot read archive: ${describe(error)}`);
	}
}

async function open(location: string, opts: TarSourceOptions): Promise<Result<TarSource>> {
	const maxMember =
		opts.maxMemberBytes !== undefined && Number.isFinite(opts.maxMemberBytes) && opts.maxMemberBytes >= 0
			? Math.min(Math.floor(opts.maxMemberBytes), MAX_MEMBER_CAP)
			: 1 << 20;

	let fileStat: fs.Stats;
	let head = Buffer.alloc(8);
	try {
		fileStat = fs.statSync(location);
		if (!fileStat.isFile()) return fail('io', location, 'not a regular file: cannot be read as an archive');
		const fd = openArchive(location);
		try {
			const n = fs.readSync(fd, head, 0, head.length, 0);
			head = head.subarray(0, n);
		} finally {
			fs.closeSync(fd);
		}
	} catch (error) {
		return fail('io', location, `cannot read archive: ${describe(error)}`);
	}
	const format = detectFormat(head, fileStat.size);
	if ('error' in format) return fail('io', location, format.error);
	const gzip = format.gzip;
	const c8d = opts.layout === 'containerd';
	const isMarker = (name: string): boolean => (c8d ? isContainerdMarker(name) : markers.has(name));
	const metadata = (parts: readonly string[], k: number): boolean => (c8d ? isContainerdMetadata(parts, k) : isMetadata(parts, k));

	const problems: string[] = [];
	let dropped = 0;
	const problem = (message: string): void => {
		if (problems.length < MAX_PROBLEMS) problems.push(message);
		else dropped++;
	};

	const top: TNode = {entry: undefined, children: undefined};
	/** Members holding speculatively cached data. */
	const cached = new Set<Member>();
	// The Docker root's depth is unknown while streaming. It is at most the depth of the
	// shallowest image/containers/graph directory seen so far, and (when the root is wrapped in
	// single folders) at most the depth of the directory prefix common to every member so far.
	let commonPrefix: string[] | undefined;
	let shallowestMarker = Infinity;
	let bound = Infinity;
	let current: Member | undefined;

	const lookupFull = (parts: readonly string[]): TNode | undefined => {
		let node: TNode | undefined = top;
		for (const part of parts) {
			node = node.children?.get(part);
			if (node === undefined) return undefined;
		}
		return node;
	};
	const insert = (parts: readonly string[], entry: Member | HardLink): void => {
		let node = top;
		for (const part of parts) {
			node.children ??= new Map();
			let child = node.children.get(part);
			if (child === undefined) {
				child = {entry: undefined, children: undefined};
				node.children.set(part, child);
			}
			node = child;
		}
		node.entry = entry;
	};
	const track = (parts: readonly string[], kind: EntryKind): void => {
		const dirLength = kind === 'dir' ? parts.length : parts.length - 1;
		if (commonPrefix === undefined) commonPrefix = parts.slice(0, dirLength);
		else {
			let i = 0;
			while (i < commonPrefix.length && i < dirLength && commonPrefix[i] === parts[i]) i++;
			commonPrefix.length = i;
		}
		for (let i = 0; i < parts.length && i < shallowestMarker; i++) {
			if (isMarker(parts[i] ?? '') && (i < parts.length - 1 || kind === 'dir')) {
				shallowestMarker = i;
				break;
			}
		}
		const next = Math.min(commonPrefix.length, shallowestMarker);
		if (next < bound) {
			bound = next;
			for (const m of cached) {
				m.depths = m.depths?.filter(d => d <= bound);
				if (m.depths === undefined || m.depths.length === 0) {
					m.data = undefined;
					m.depths = undefined;
					cached.delete(m);
				}
			}
		}
	};
	const checkName = (name: string, what: string): string[] | null => {
		if (name.length > MAX_NAME_CHARS) {
			problem(`${what} ${quote(name)} has a name over ${MAX_NAME_CHARS} characters; ignored`);
			return null;
		}
		if (name.includes('\0')) {
			problem(`${what} ${quote(name)} has a NUL in its name; ignored`);
			return null;
		}
		const parts = normalise(name);
		if (parts === null) {
			problem(`${what} ${quote(name)} has a '..' component; ignored`);
			return null;
		}
		if (parts.some(p => Buffer.byteLength(p) > MAX_COMPONENT_BYTES)) {
			problem(`${what} ${quote(name)} has a name component over ${MAX_COMPONENT_BYTES} bytes; ignored`);
			return null;
		}
		return parts;
	};

	const onEntry = (h: TarHeader): boolean => {
		current = undefined;
		const parts = checkName(h.name, 'member');
		if (parts === null) return false;
		if (parts.length === 0 && h.type !== 'dir') {
			problem(`member ${quote(h.name)} names the archive's top directory but is a ${h.type}; ignored`);
			return false;
		}
		if (h.type === 'hardlink') {
			const targetParts = checkName(h.linkname, `hard link ${quote(h.name)} → target`);
			if (targetParts === null) return false;
			const target = lookupFull(targetParts)?.entry;
			if (target === undefined) {
				problem(`hard link ${quote(h.name)} names ${quote(h.linkname)}, which is not earlier in the archive; ignored`);
				return false;
			}
			const member = resolve(target);
			if (member.kind === 'dir') {
				problem(`hard link ${quote(h.name)} names directory ${quote(h.linkname)}; ignored`);
				return false;
			}
			insert(parts, {kind: 'hardlink', linkname: h.linkname, target: member});
			member.links++;
			track(parts, member.kind);
			return false;
		}
		const member: Member = {
			kind: h.type,
			size: h.size,
			mode: h.mode,
			uid: h.uid,
			gid: h.gid,
			mtimeMs: h.mtimeMs,
			linkname: h.type === 'symlink' ? h.linkname : '',
			devmajor: h.devmajor,
			devminor: h.devminor,
			xattrs: h.xattrs,
			dataOffset: h.dataOffset,
			links: 1,
			data: undefined,
			unreadable: h.unreadable,
			depths: undefined,
		};
		insert(parts, member);
		track(parts, member.kind);
		current = member;
		if (member.kind !== 'file' || member.unreadable !== undefined || h.size > maxMember || h.dataSize !== h.size) return false;
		const depths: number[] = [];
		for (let k = 0; k <= bound && k < parts.length; k++) if (metadata(parts, k)) depths.push(k);
		if (depths.length === 0) return false;
		member.depths = depths;
		cached.add(member);
		return true;
	};

	const parser = new TarParser({
		entry: onEntry,
		data: (_h, data) => {
			if (current !== undefined && cached.has(current)) current.data = data;
		},
		truncated: () => {
			if (current !== undefined) {
				current.unreadable = 'member is truncated in the archive';
				current.data = undefined;
			}
		},
		problem,
	});
	const streamError = await scan(location, gzip, parser, opts.onProgress);
	parser.end();
	if (streamError !== undefined && !parser.complete) problem(streamError);
	if (parser.notTar) {
		const why = streamError ?? (parser.pos < 512 ? `only ${parser.pos} bytes` : 'no valid tar header at the start');
		return fail('io', location, `not a tar archive${gzip ? ' (inside gzip)' : ''}: ${why}`);
	}

	// Find the Docker root: breadth-first, the shallowest directory with an image/, containers/ or graph/ directory.
	const isDirNode = (n: TNode): boolean => nodeKind(n) === 'dir';
	let rootNode: TNode = top;
	let rootPath = '';
	type Item = {readonly node: TNode; readonly name: string; readonly parent: Item | undefined};
	const pathOf = (item: Item): string => {
		const names: string[] = [];
		for (let i: Item | undefined = item; i?.parent !== undefined; i = i.parent) names.push(i.name);
		return names.reverse().join('/');
	};
	let level: Item[] = [{node: top, name: '', parent: undefined}];
	let found = false;
	while (level.length > 0 && !found) {
		const hits: Array<{node: TNode; path: string}> = [];
		const next: Item[] = [];
		for (const item of level) {
			if (!isDirNode(item.node) || item.node.children === undefined) continue;
			for (const [name, child] of item.node.children) {
				if (isMarker(name) && isDirNode(child)) {
					hits.push({node: item.node, path: pathOf(item)});
					break;
				}
			}
			for (const [name, child] of item.node.children) next.push({node: child, name, parent: item});
		}
		if (hits.length > 0) {
			hits.sort((a, b) => byString(a.path, b.path));
			const first = hits[0];
			if (first !== undefined) {
				rootNode = first.node;
				rootPath = first.path;
			}
			if (hits.length > 1) problem(`several Docker roots at the same depth (${hits.slice(0, 5).map(h => `${quote(h.path)}`).join(', ')}${hits.length > 5 ? ', …' : ''}); using ${quote(rootPath)}`);
			found = true;
		}
		level = next;
	}
	if (!found) problem(c8d ? 'no io.containerd.* directory in the archive; using its top level as the containerd root' : 'no image/, containers/ or graph/ directory in the archive; using its top level as the root');

	// Keep cached data only for metadata paths under the root; note the metadata not cached.
	const keep = new Set<Member>();
	const missing = new Set<Member>();
	const walk = (node: TNode, parts: string[]): void => {
		if (node.entry !== undefined && parts.length > 0) {
			const m = resolve(node.entry);
			if (m.kind === 'file' && metadata(parts, 0)) {
				if (m.data !== undefined) keep.add(m);
				else if (m.unreadable === undefined && m.size <= maxMember && m.size > 0) missing.add(m);
			}
		}
		if (node.children === undefined || !isDirNode(node)) return;
		// Only the top levels can hold metadata paths.
		if (!mayHoldMetadata(parts, c8d)) return;
		for (const [name, child] of node.children) {
			parts.push(name);
			walk(child, parts);
			parts.pop();
		}
	};
	walk(rootNode, []);
	for (const m of cached) {
		m.depths = undefined;
		if (!keep.has(m)) m.data = undefined;
	}
	cached.clear();

	// A gzip archive whose root was found deeper than expected: fetch the missed metadata in a second pass.
	if (gzip && missing.size > 0) {
		const byOffset = new Map<number, Member>();
		for (const m of missing) byOffset.set(m.dataOffset, m);
		const second = new TarParser({
			entry: h => byOffset.has(h.dataOffset) && h.dataSize === h.size,
			data: (h, data) => {
				const m = byOffset.get(h.dataOffset);
				if (m !== undefined) m.data = data;
			},
			truncated: () => {},
			problem: () => {},
		});
		await scan(location, true, second, undefined);
	}
	if (dropped > 0) problems.push(`… and ${dropped} more problems`);

	return ok(makeSource({location, gzip, fileStat, rootNode, rootPath, complete: parser.complete && streamError === undefined, problems, inflatedSize: parser.pos, holdWhole: Math.min(SMALL_INFLATED, opts.holdWholeBytes ?? SMALL_INFLATED)}));
}

function makeSource(args: {
	location: string;
	gzip: boolean;
	fileStat: fs.Stats;
	rootNode: TNode;
	rootPath: string;
	complete: boolean;
	problems: string[];
	/** Bytes of tar stream the index pass read (inflated, for gzip). */
	inflatedSize: number;
	holdWhole: number;
}): TarSource {
	const {location, gzip, fileStat, rootNode} = args;
	// At most one live inflater for the whole source (gzip only), created on the first content read.
	let cursor: GzipCursor | undefined;
	const gzCursor = (): GzipCursor => (cursor ??= new GzipCursor(location, fileStat));
	// A small archive (at most SMALL_INFLATED inflated) is held whole once read, through a WeakRef, as
	// reads in any order then cost nothing more (container logs, read in container order, for instance).
	let whole: WeakRef<Buffer> | undefined;
	let small = gzip && args.inflatedSize <= args.holdWhole;
	const wholeStream = (): {ok: true; data: Buffer} | {ok: false; message: string} => {
		const hit = whole?.deref();
		if (hit !== undefined) return {ok: true, data: hit};
		const data = Buffer.allocUnsafe(args.inflatedSize);
		const got = gzCursor().read(data, data.length, 0);
		if (!got.ok) return got;
		const out = data.subarray(0, got.n);
		whole = new WeakRef(out);
		return {ok: true, data: out};
	};
	// Inode numbers stand in for member identity: a hard link and its target share one.
	const inodes = new WeakMap<Member, number>();
	let nextIno = 1;
	const inoOf = (m: Member): number => {
		let n = inodes.get(m);
		if (n === undefined) inodes.set(m, (n = nextIno++));
		return n;
	};

	/** Walks parts[0..upto) as directories, with dir-source's errors. */
	function walkDirs(parts: string[], upto: number): Result<TNode> {
		let node = rootNode;
		for (let i = 0; i < upto; i++) {
			const child = node.children?.get(parts[i] ?? '');
			const rel = (): string => parts.slice(0, i + 1).join('/');
			if (child === undefined) return fail('missing', rel(), 'ENOENT');
			const kind = nodeKind(child);
			if (kind === 'symlink') return fail('symlink', rel(), 'is a symlink; not followed');
			if (kind !== 'dir') return fail('not-a-dir', rel(), `is a ${kind}, not a directory`);
			node = child;
		}
		return ok(node);
	}

	/** The node at parts (its parent directories checked), or dir-source's error. */
	function find(rel: string, parts: string[]): Result<TNode> {
		const parent = walkDirs(parts, parts.length - 1);
		if (!parent.ok) return parent;
		const last = parts[parts.length - 1];
		if (last === undefined) return parent;
		const node = parent.value.children?.get(last);
		if (node === undefined) return fail('missing', rel, 'ENOENT');
		return ok(node);
	}

	function list(rel: string): Result<Entry[]> {
		const parts = splitPath(rel);
		if (parts === null) return fail('bad-path', rel, 'path leaves the root');
		const dir = walkDirs(parts, parts.length);
		if (!dir.ok) return dir;
		const entries: Entry[] = [];
		for (const [name, child] of dir.value.children ?? []) entries.push({name, kind: nodeKind(child)});
		entries.sort((a, b) => byString(a.name, b.name));
		return ok(entries);
	}

	function statOf(node: TNode): Stat {
		if (node.entry === undefined) return {kind: 'dir', size: 0, mode: S_IFMT.dir | 0o755, uid: 0, gid: 0, mtimeMs: 0};
		const m = resolve(node.entry);
		const size = m.kind === 'file' ? m.size : m.kind === 'symlink' ? Buffer.byteLength(m.linkname) : 0;
		// Linux symlinks are always rwxrwxrwx, whatever the archive says.
		const mode = S_IFMT[m.kind] | (m.kind === 'symlink' ? 0o777 : m.mode & 0o7777);
		const base = {kind: m.kind, size, mode, uid: m.uid, gid: m.gid, mtimeMs: m.mtimeMs, ino: inoOf(m), nlink: m.links};
		if (m.kind === 'char' || m.kind === 'block') return {...base, rdev: {major: m.devmajor, minor: m.devminor}};
		return base;
	}

	function stat(rel: string): Result<Stat> {
		const parts = splitPath(rel);
		if (parts === null) return fail('bad-path', rel, 'path leaves the root');
		const node = find(rel, parts);
		if (!node.ok) return node;
		return ok(statOf(node.value));
	}

	/** Opens the archive again to read a member's content, refusing when it changed since it was indexed. The caller closes the fd. */
	function reopen(rel: string): Result<number> {
		let fd: number;
		try {
			fd = openArchive(location);
		} catch (error) {
			return fail('io', rel, `cannot reopen the archive: ${describe(error)}`);
		}
		try {
			const now = fs.fstatSync(fd);
			if (now.size === fileStat.size && now.mtimeMs === fileStat.mtimeMs) return ok(fd);
			fs.closeSync(fd);
			return fail('io', rel, 'the archive changed since it was opened');
		} catch (error) {
			fs.closeSync(fd);
			return fail('io', rel, describe(error));
		}
	}

	function readRange(rel: string, offset: number, length: number): Result<Buffer> {
		const reopened = reopen(rel);
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
	function gzRead(rel: string, m: Member, buffer: Buffer, position: number): Result<number> {
		const want = Math.min(buffer.length, m.size - position);
		if (want <= 0) return ok(0);
		const all = small ? wholeStream() : undefined;
		// A stream damaged further on cannot be held whole; the members before the damage are still read through the cursor.
		if (all !== undefined && !all.ok) small = false;
		if (all?.ok === true) {
			const n = all.data.copy(buffer, 0, Math.min(all.data.length, m.dataOffset + position), Math.min(all.data.length, m.dataOffset + position + want));
			if (n < want) return fail('io', rel, `the archive ends inside this member (after ${position + n} of ${m.size} bytes)`);
			return ok(n);
		}
		const got = gzCursor().read(buffer, want, m.dataOffset + position);
		if (!got.ok) return fail('io', rel, got.message);
		if (got.n < want) return fail('io', rel, `the archive ends inside this member (after ${position + got.n} of ${m.size} bytes)`);
		return ok(got.n);
	}

	function content(rel: string, m: Member): Result<Buffer> {
		if (m.unreadable !== undefined) return fail('io', rel, m.unreadable);
		if (m.data !== undefined) return ok(Buffer.from(m.data));
		if (m.size === 0) return ok(Buffer.alloc(0));
		if (!gzip) return readRange(rel, m.dataOffset, m.size);
		const out = Buffer.allocUnsafe(m.size);
		const got = gzRead(rel, m, out, 0);
		return got.ok ? ok(out) : got;
	}

	/** The member behind a path that must be a regular file (a hard link resolves to its target); never a symlink. */
	function regularMember(rel: string) {
		const parts = splitPath(rel);
		if (parts === null || parts.length === 0) return fail<never>('bad-path', rel, 'path leaves the root');
		const node = find(rel, parts);
		if (!node.ok) return node;
		const kind = nodeKind(node.value);
		if (kind === 'symlink') return fail<never>('symlink', rel, 'is a symlink; not followed');
		if (kind !== 'file' || node.value.entry === undefined) return fail<never>('not-a-file', rel, `is a ${kind}, not a regular file`);
		return ok(resolve(node.value.entry));
	}

	function readFile(rel: string, maxBytes: number): Result<Buffer> {
		const member = regularMember(rel);
		if (!member.ok) return member;
		const m = member.value;
		if (m.size > maxBytes) return fail('too-large', rel, `is ${m.size} bytes, over the ${maxBytes}-byte cap`);
		return content(rel, m);
	}

	/**
	 * Content in pieces, memory bounded whatever the member's size: cached data is sliced from
	 * memory; an uncompressed archive is read again at the member's offset; a gzip archive through
	 * the source's one inflater (sequential reads continue it, an earlier offset restarts it).
	 */
	function openRead(rel: string): Result<FileReader> {
		const member = regularMember(rel);
		if (!member.ok) return member;
		const m = member.value;
		if (m.unreadable !== undefined) return fail('io', rel, m.unreadable);
		let closed = false;
		const fromMemory = (data: Buffer): Result<FileReader> =>
			ok({
				size: m.size,
				read(buffer: Buffer, position: number): Result<number> {
					if (closed) return fail('io', rel, 'read after close');
					if (position >= data.length) return ok(0);
					return ok(data.copy(buffer, 0, position, Math.min(data.length, position + buffer.length)));
				},
				close(): void {
					closed = true;
				},
			});
		if (m.data !== undefined) return fromMemory(m.data);
		if (m.size === 0) return fromMemory(Buffer.alloc(0));
		if (gzip) {
			return ok({
				size: m.size,
				read(buffer: Buffer, position: number): Result<number> {
					if (closed) return fail('io', rel, 'read after close');
					return gzRead(rel, m, buffer, position);
				},
				close(): void {
					closed = true;
				},
			});
		}
		const reopened = reopen(rel);
		if (!reopened.ok) return reopened;
		const fd = reopened.value;
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

	/**
	 * Where a regular file's content starts in the inflated stream (gzip only: reading in this order
	 * is one pass); for a directory with a member of its own, where that member ends (its contents
	 * follow it in an archive made by tar).
	 */
	function contentOffset(rel: string): number | undefined {
		const parts = splitPath(rel);
		const node = parts === null || parts.length === 0 ? undefined : find(rel, parts);
		const entry = node?.ok === true ? node.value.entry : undefined;
		if (entry !== undefined && entry.kind === 'dir') return small ? -1 : entry.dataOffset;
		const member = regularMember(rel);
		if (!member.ok) return undefined;
		const m = member.value;
		return m.data !== undefined || m.size === 0 || m.unreadable !== undefined || small ? -1 : m.dataOffset;
	}

	function readLink(rel: string): Result<string> {
		const parts = splitPath(rel);
		if (parts === null || parts.length === 0) return fail('bad-path', rel, 'path leaves the root');
		const node = find(rel, parts);
		if (!node.ok) return node;
		const entry = node.value.entry;
		if (entry === undefined || resolve(entry).kind !== 'symlink') return fail('not-a-file', rel, 'is not a symlink');
		return ok(resolve(entry).linkname);
	}

	function xattrs(rel: string): Record<string, Buffer> | undefined {
		const parts = splitPath(rel);
		if (parts === null) return undefined;
		const node = find(rel, parts);
		if (!node.ok) return undefined;
		const entry = node.value.entry;
		const out: Record<string, Buffer> = {};
		const stored = entry === undefined ? undefined : resolve(entry).xattrs;
		// Evidence names as keys: defined as own properties, so `__proto__` is a name, not the prototype.
		for (const [key, value] of Object.entries(stored ?? {})) Object.defineProperty(out, key, {value: Buffer.from(value), enumerable: true, writable: true, configurable: true});
		return out;
	}

	return {
		kind: 'archive',
		location,
		root: args.rootPath,
		complete: args.complete,
		problems: args.problems,
		list,
		stat,
		readFile,
		readLink,
		openRead,
		xattrs,
		...(gzip ? {contentOffset} : {}),
		get passes() {
			return cursor?.passes ?? 0;
		},
	};
}
