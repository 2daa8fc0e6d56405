import {createHash} from 'node:crypto';
import {type Finding, finding} from '../finding.ts';
import type {Source, Stat} from '../sources/source.ts';
import {type TarEntry, type TarType, entryHeader, padding, trailer} from './tar-writer.ts';
import {type Walked, walkMerged} from './merged-walk.ts';
import {type FsView, join, rootLayers} from './view.ts';

/** Where bytes go: a file, stdout. write() may return a promise (back-pressure). */
export type Sink = {put(chunk: Buffer): void | Promise<void>};

const PIECE = 1 << 20;

export type ExportResult = {
	readonly entries: number;
	readonly files: number;
	readonly bytes: number;
	/** Regular files whose content could not be read whole (left out, or cut short): the export is incomplete. */
	readonly unreadable: number;
};

export type ExportOptions = {
	/** Called with each regular file's name and sha256 (hex), for the --hash manifest. */
	readonly onHash?: (name: string, sha256: string) => void | Promise<void>;
	readonly onProblem: (f: Finding) => void;
};

const tarTypes: Partial<Record<Stat['kind'], TarType>> = {
	file: 'file',
	dir: 'dir',
	symlink: 'symlink',
	char: 'char',
	block: 'block',
	fifo: 'fifo',
};

type RegularFile = {
	readonly path: string;
	readonly rel: string;
	readonly entry: TarEntry;
	readonly key: string | undefined;
	readonly offset: number;
};

/** An export as it is written: its counts, the hard links seen (first name and sha256), and where the bytes go. */
class TarExport {
	entries = 0;
	files = 0;
	bytes = 0;
	unreadable = 0;
	private readonly links = new Map<string, {name: string; sha: string | undefined}>();
	private readonly buffer = Buffer.allocUnsafe(PIECE);
	private readonly source: Source;
	private readonly view: FsView;
	private readonly sink: Sink;
	private readonly opts: ExportOptions;

	constructor(source: Source, view: FsView, sink: Sink, opts: ExportOptions) {
		this.source = source;
		this.view = view;
		this.sink = sink;
		this.opts = opts;
	}

	readonly out = async (chunk: Buffer): Promise<void> => {
		this.bytes += chunk.length;
		await this.sink.put(chunk);
	};

	/** A header of a member without content. */
	async header(entry: TarEntry): Promise<void> {
		await this.out(entryHeader(entry));
		this.entries++;
	}

	/** A regular file: a hard link to the first name of its inode, or its header and content. */
	async regular(f: RegularFile): Promise<void> {
		const opts = this.opts;
		const first = f.key === undefined ? undefined : this.links.get(f.key);
		if (first !== undefined) {
			await this.out(entryHeader({...f.entry, type: 'hardlink', size: 0, linkname: first.name}));
			this.entries++;
			if (opts.onHash !== undefined && first.sha !== undefined) await opts.onHash(f.entry.name, first.sha);
			return;
		}
		const r = await writeFile(this.source, this.view, f.path, f.rel, f.entry, this.buffer, this.out, opts.onProblem);
		if (r === 'left-out') {
			this.unreadable++;
			return;
		}
		this.entries++;
		this.files++;
		if (r === undefined) this.unreadable++;
		if (f.key !== undefined) this.links.set(f.key, {name: f.entry.name, sha: r});
		if (opts.onHash !== undefined && r !== undefined) await opts.onHash(f.entry.name, r);
	}

	result(): ExportResult {
		return {entries: this.entries, files: this.files, bytes: this.bytes, unreadable: this.unreadable};
	}
}

/** What one walked path becomes in the tar: a member without content, a regular file, or nothing (left out: a finding says why). */
function walkedMember(
	source: Source,
	view: FsView,
	w: Walked,
	onProblem: (f: Finding) => void,
	contentOffset: ((rel: string) => number | undefined) | undefined,
): {readonly header: TarEntry} | {readonly file: RegularFile} | null {
	const path = join(view.layers[w.entry.layer]!.dir, w.rel);
	const st = source.stat(path);
	if (!st.ok) {
		onProblem(
			finding(
				'error',
				'files.unreadable',
				view.subject,
				`/${w.rel} is left out of the export: ${st.error.message}`,
				st.error.path,
			),
		);
		return null;
	}
	const s = st.value;
	const type = tarTypes[s.kind];
	if (type === undefined) {
		onProblem(
			finding(
				'info',
				'files.not-exported',
				view.subject,
				`/${w.rel} is a ${s.kind}: tar cannot hold it (docker export leaves it out too)`,
				path,
			),
		);
		return null;
	}
	const name = s.kind === 'dir' ? `${w.rel}/` : w.rel;
	const base = {name, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtimeMs: s.mtimeMs};
	if (type === 'symlink') {
		const target = source.readLink(path);
		if (!target.ok) {
			onProblem(
				finding(
					'error',
					'files.unreadable',
					view.subject,
					`symlink /${w.rel} is left out of the export: ${target.error.message}`,
					path,
				),
			);
			return null;
		}
		return {header: {...base, type, size: 0, linkname: target.value}};
	}
	if (type === 'char' || type === 'block')
		return {header: {...base, type, size: 0, devmajor: s.rdev?.major ?? 0, devminor: s.rdev?.minor ?? 0}};
	if (type === 'file') {
		const key = s.ino !== undefined && (s.nlink ?? 1) > 1 ? `${w.entry.layer}:${s.ino}` : undefined;
		return {
			file: {
				path,
				rel: w.rel,
				entry: {...base, type, size: s.size},
				key,
				offset: contentOffset === undefined ? -1 : (contentOffset(path) ?? -1),
			},
		};
	}
	return {header: {...base, type, size: 0}};
}

/**
 * The merged view as a tar stream, like `docker export`: members named without a leading '/'
 * ('bin/', 'bin/sh'), the root itself left out, whiteouts and aufs housekeeping never written,
 * symlinks stored as symlinks (never followed), files that are hard links of each other within
 * one layer stored as hard links, sockets skipped (tar cannot hold them; docker skips them too).
 *
 * On a source where reading out of order costs passes (a compressed archive: Source.contentOffset),
 * everything but regular files is written in walk order first, then the regular files in the
 * order their content lies in the archive, so that the archive is inflated once: the same members
 * as from the extracted directory, in another order. A file whose content cannot be read (a
 * truncated or sparse member) is left out, never written as zeros, and counted in `unreadable`.
 */
export async function exportTar(source: Source, view: FsView, sink: Sink, opts: ExportOptions): Promise<ExportResult> {
	const tar = new TarExport(source, view, sink, opts);
	// Regular files in archive order only where reading out of order costs passes: a compressed archive
	// too big to be held whole (its directories then have offsets; a small one answers -1 throughout and
	// is exported in the usual order, byte for byte as from its extraction).
	const offsetOf = source.contentOffset?.bind(source);
	const contentOffset =
		offsetOf !== undefined && view.layers.some(l => (offsetOf(l.dir) ?? -1) >= 0) ? offsetOf : undefined;
	const deferred: RegularFile[] = [];
	for (const w of walkMerged(source, view, '', rootLayers(view), opts.onProblem)) {
		const member = walkedMember(source, view, w, opts.onProblem, contentOffset);
		if (member === null) continue;
		if ('header' in member) await tar.header(member.header);
		else if (contentOffset !== undefined) deferred.push(member.file);
		else await tar.regular(member.file);
	}
	// Archive order (stable: walk order among equals, so a hard link's first name is the walk's first).
	deferred.sort((a, b) => a.offset - b.offset);
	for (const f of deferred) await tar.regular(f);
	await tar.out(trailer());
	return tar.result();
}

/**
 * Writes one regular file: header, content in pieces, padding. Returns its sha256; undefined when
 * it was cut short (the rest is zeros, so that the tar stays readable, and a finding says so);
 * 'left-out' when its content cannot be read at all (nothing is written).
 */
async function writeFile(
	source: Source,
	view: FsView,
	path: string,
	rel: string,
	entry: TarEntry,
	buffer: Buffer,
	out: (b: Buffer) => Promise<void>,
	onProblem: (f: Finding) => void,
): Promise<string | undefined | 'left-out'> {
	const size = entry.size;
	const sha = createHash('sha256');
	const opened = source.openRead?.(path);
	if (opened === undefined || !opened.ok) {
		onProblem(
			finding(
				'error',
				'files.unreadable',
				view.subject,
				`/${rel} is left out of the export: its content cannot be read (${opened === undefined ? 'this source cannot read contents' : opened.error.message})`,
				path,
			),
		);
		return 'left-out';
	}
	const reader = opened.value;
	let pos = 0;
	let complete = true;
	try {
		// The first piece is read before the header is written: a member unreadable from its start is left out.
		let got = reader.read(buffer.length <= size ? buffer : buffer.subarray(0, size), 0);
		if (size > 0 && (!got.ok || got.value === 0)) {
			onProblem(
				finding(
					'error',
					'files.unreadable',
					view.subject,
					`/${rel} is left out of the export: its content cannot be read (${got.ok ? 'the file is empty now' : got.error.message})`,
					path,
				),
			);
			return 'left-out';
		}
		await out(entryHeader(entry));
		while (pos < size) {
			if (!got.ok || got.value === 0) {
				complete = false;
				onProblem(
					finding(
						'error',
						'files.unreadable',
						view.subject,
						`content of /${rel} ends after ${pos} of ${size} bytes (${got.ok ? 'the file shrank' : got.error.message}); the rest is written as zero bytes, so the export is incomplete`,
						path,
					),
				);
				break;
			}
			const chunk = Buffer.from(buffer.subarray(0, got.value));
			sha.update(chunk);
			await out(chunk);
			pos += got.value;
			if (pos < size) got = reader.read(buffer.length <= size - pos ? buffer : buffer.subarray(0, size - pos), pos);
		}
	} finally {
		reader.close();
	}
	while (pos < size) {
		const n = Math.min(PIECE, size - pos);
		await out(Buffer.alloc(n));
		pos += n;
	}
	const pad = padding(size);
	if (pad > 0) await out(Buffer.alloc(pad));
	return complete ? sha.digest('hex') : undefined;
}

/** A line of the sha256 manifest, in sha256sum's format (a name with '\\' or a newline escaped, the line starting with '\\'). */
export function manifestLine(name: string, sha256: string): string {
	if (!/[\\\n\r]/.test(name)) return `${sha256}  ${name}\n`;
	return `\\${sha256}  ${name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}\n`;
}
