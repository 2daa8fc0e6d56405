import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {type FileReader, type Result, type Source, fail, ok} from './source.ts';
import {TarParser} from '../formats/tar-format.ts';
import {TarContent, describe, openArchive} from './tar-content.ts';
import {type Layout, type Member, type TNode, TarIndexer, findRoot, keepMetadata} from './tar-index.ts';
import {TarTree} from './tar-tree.ts';
import {driverRecordDirs, driverRecordFiles} from './driver-dirs.ts';

/**
 * A Source over a tarball (.tar, or gzip-compressed .tar.gz/.tgz, detected by magic bytes).
 *
 * The archive is streamed once. Every header is kept in an in-memory index (a trie of names);
 * content is kept in memory only for small (≤ maxMemberBytes) metadata files of the Docker root
 * (see isMetadata). Other content is read again on demand, in bounded memory, whatever the size:
 * - uncompressed tar: the member's byte range is read directly from the file;
 * - gzip: one live inflater (GzipCursor, tar-content.ts) streams the archive from its start up to the member and
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
 *
 * The parts: this file opens the archive and holds what a Docker or containerd root looks like in
 * it; tar-index.ts builds the index; tar-tree.ts looks members up; tar-content.ts reads content.
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

/** A compressed archive whose tar stream is at most this large is held whole in memory once content is read from it (the default of holdWholeBytes). */
const SMALL_INFLATED = 64 << 20;
const MAX_MEMBER_CAP = 64 << 20;

const markers = new Set(['image', 'containers', 'graph']);
/** What marks a containerd root (--containerd-root: /var/lib/containerd, or a copy of it). */
export function isContainerdMarker(name: string): boolean {
	return (
		name === 'io.containerd.metadata.v1.bolt' ||
		name === 'io.containerd.content.v1.content' ||
		name.startsWith('io.containerd.snapshotter.v1.')
	);
}

/** Whether parts[k..] (a path relative to a containerd root at depth k) is meta.db, a snapshotter's metadata.db or a content blob (manifests and configs are small). */
function isContainerdMetadata(parts: readonly string[], k: number): boolean {
	const n = parts.length - k;
	const area = parts[k] ?? '';
	if (n === 2)
		return (
			(area === 'io.containerd.metadata.v1.bolt' && parts[k + 1] === 'meta.db') ||
			(area.startsWith('io.containerd.snapshotter.v1.') && parts[k + 1] === 'metadata.db')
		);
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
function scan(
	file: string,
	gzip: boolean,
	parser: TarParser,
	onProgress: ((bytes: number) => void) | undefined,
): Promise<string | undefined> {
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
	const start = readHead(location);
	if (!start.ok) return start;
	const {fileStat, head} = start.value;
	const format = detectFormat(head, fileStat.size);
	if ('error' in format) return fail('io', location, format.error);
	const gzip = format.gzip;
	const layout = layoutOf(opts.layout === 'containerd');

	const indexer = new TarIndexer(maxMember, layout);
	const parser = new TarParser(indexer.handler());
	const streamError = await scan(location, gzip, parser, opts.onProgress);
	parser.end();
	if (streamError !== undefined && !parser.complete) indexer.problem(streamError);
	if (parser.notTar) {
		const why = streamError ?? (parser.pos < 512 ? `only ${parser.pos} bytes` : 'no valid tar header at the start');
		return fail('io', location, `not a tar archive${gzip ? ' (inside gzip)' : ''}: ${why}`);
	}

	const root = findRoot(indexer.top, layout, indexer.problem);
	const missing = keepMetadata(indexer, root.node, layout, maxMember);
	// A gzip archive whose root was found deeper than expected: fetch the missed metadata in a second pass.
	if (gzip && missing.size > 0) await fetchMissed(location, missing);
	indexer.finishProblems();

	const complete = parser.complete && streamError === undefined;
	const holdWhole = Math.min(SMALL_INFLATED, opts.holdWholeBytes ?? SMALL_INFLATED);
	return ok(
		makeSource({
			location,
			gzip,
			fileStat,
			rootNode: root.node,
			rootPath: root.path,
			complete,
			problems: indexer.problems,
			inflatedSize: parser.pos,
			holdWhole,
		}),
	);
}

/** The archive file's stat and first bytes (for its format), or why it cannot be read. */
function readHead(location: string): Result<{fileStat: fs.Stats; head: Buffer}> {
	let head = Buffer.alloc(8);
	try {
		const fileStat = fs.statSync(location);
		if (!fileStat.isFile()) return fail('io', location, 'not a regular file: cannot be read as an archive');
		const fd = openArchive(location);
		try {
			const n = fs.readSync(fd, head, 0, head.length, 0);
			head = head.subarray(0, n);
		} finally {
			fs.closeSync(fd);
		}
		return ok({fileStat, head});
	} catch (error) {
		return fail('io', location, `cannot read archive: ${describe(error)}`);
	}
}

/** The layout of a Docker root, or of a containerd root (--containerd-root). */
function layoutOf(containerd: boolean): Layout {
	return {
		containerd,
		isMarker: containerd ? isContainerdMarker : name => markers.has(name),
		metadata: containerd ? isContainerdMetadata : isMetadata,
		mayHoldMetadata: parts => mayHoldMetadata(parts, containerd),
	};
}

/** A second pass over a gzip archive for the metadata members the index pass did not cache. */
async function fetchMissed(location: string, missing: Set<Member>): Promise<void> {
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
	const {location, gzip} = args;
	const tree = new TarTree(args.rootNode);
	const data = new TarContent(location, gzip, args.fileStat, args.inflatedSize, args.holdWhole);

	function readFile(rel: string, maxBytes: number): Result<Buffer> {
		const member = tree.regularMember(rel);
		if (!member.ok) return member;
		const m = member.value;
		if (m.size > maxBytes) return fail('too-large', rel, `is ${m.size} bytes, over the ${maxBytes}-byte cap`);
		return data.content(rel, m);
	}

	function openRead(rel: string): Result<FileReader> {
		const member = tree.regularMember(rel);
		if (!member.ok) return member;
		return data.openRead(rel, member.value);
	}

	/**
	 * Where a regular file's content starts in the inflated stream (gzip only: reading in this order
	 * is one pass); for a directory with a member of its own, where that member ends (its contents
	 * follow it in an archive made by tar).
	 */
	function contentOffset(rel: string): number | undefined {
		const entry = tree.entryAt(rel);
		if (entry !== undefined && entry.kind === 'dir') return data.small ? -1 : entry.dataOffset;
		const member = tree.regularMember(rel);
		if (!member.ok) return undefined;
		const m = member.value;
		return m.data !== undefined || m.size === 0 || m.unreadable !== undefined || data.small ? -1 : m.dataOffset;
	}

	return {
		kind: 'archive',
		location,
		root: args.rootPath,
		complete: args.complete,
		problems: args.problems,
		list: rel => tree.list(rel),
		stat: rel => tree.stat(rel),
		readFile,
		readLink: rel => tree.readLink(rel),
		openRead,
		xattrs: rel => tree.xattrs(rel),
		...(gzip ? {contentOffset} : {}),
		get passes() {
			return data.passes;
		},
	};
}
