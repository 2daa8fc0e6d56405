import {createHash} from 'node:crypto';
import {type Finding, finding} from '../finding.ts';
import type {Source, Stat} from '../read/source.ts';
import {type TarEntry, type TarType, entryHeader, padding, trailer} from './tar-writer.ts';
import {walkMerged} from './walk.ts';
import {type FsView, join, rootLayers} from './view.ts';

/** Where bytes go: a file, stdout. write() may return a promise (back-pressure). */
export type Sink = {put(chunk: Buffer): void | Promise<void>};

const PIECE = 1 << 20;

export type ExportResult = {readonly entries: number; readonly files: number; readonly bytes: number};

export type ExportOptions = {
	/** Called with each regular file's name and sha256 (hex), for the --hash manifest. */
	readonly onHash?: (name: string, sha256: string) => void | Promise<void>;
	readonly onProblem: (f: Finding) => void;
};

const tarTypes: Partial<Record<Stat['kind'], TarType>> = {file: 'file', dir: 'dir', symlink: 'symlink', char: 'char', block: 'block', fifo: 'fifo'};

/**
 * The merged view as a tar stream, like `docker export`: members named without a leading '/'
 * ('bin/', 'bin/sh'), the root itself left out, whiteouts and aufs housekeeping never written,
 * symlinks stored as symlinks (never followed), files that are hard links of each other within
 * one layer stored as hard links, sockets skipped (tar cannot hold them; docker skips them too).
 */
export async function exportTar(source: Source, view: FsView, sink: Sink, opts: ExportOptions): Promise<ExportResult> {
	const buffer = Buffer.allocUnsafe(PIECE);
	const links = new Map<string, {name: string; sha: string | undefined}>();
	let entries = 0;
	let files = 0;
	let bytes = 0;
	const out = async (chunk: Buffer): Promise<void> => {
		bytes += chunk.length;
		await sink.put(chunk);
	};
	for (const w of walkMerged(source, view, '', rootLayers(view), opts.onProblem)) {
		const path = join(view.layers[w.entry.layer]!.dir, w.rel);
		const st = source.stat(path);
		if (!st.ok) {
			opts.onProblem(finding('error', 'files.unreadable', view.subject, `/${w.rel} is left out of the export: ${st.error.message}`, st.error.path));
			continue;
		}
		const s = st.value;
		const type = tarTypes[s.kind];
		if (type === undefined) {
			opts.onProblem(finding('info', 'files.not-exported', view.subject, `/${w.rel} is a ${s.kind}: tar cannot hold it (docker export leaves it out too)`, path));
			continue;
		}
		const name = s.kind === 'dir' ? `${w.rel}/` : w.rel;
		const base = {name, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtimeMs: s.mtimeMs};
		let entry: TarEntry;
		if (type === 'symlink') {
			const target = source.readLink(path);
			if (!target.ok) {
				opts.onProblem(finding('error', 'files.unreadable', view.subject, `symlink /${w.rel} is left out of the export: ${target.error.message}`, path));
				continue;
			}
			entry = {...base, type, size: 0, linkname: target.value};
		} else if (type === 'char' || type === 'block') {
			entry = {...base, type, size: 0, devmajor: s.rdev?.major ?? 0, devminor: s.rdev?.minor ?? 0};
		} else if (type === 'file') {
			const key = s.ino !== undefined && (s.nlink ?? 1) > 1 ? `${w.entry.layer}:${s.ino}` : undefined;
			const first = key === undefined ? undefined : links.get(key);
			if (first !== undefined) {
				await out(entryHeader({...base, type: 'hardlink', size: 0, linkname: first.name}));
				entries++;
				if (opts.onHash !== undefined && first.sha !== undefined) await opts.onHash(name, first.sha);
				continue;
			}
			const sha = await writeFile(source, view, path, w.rel, {...base, type, size: s.size}, buffer, out, opts.onProblem);
			entries++;
			files++;
			if (key !== undefined) links.set(key, {name, sha});
			if (opts.onHash !== undefined && sha !== undefined) await opts.onHash(name, sha);
			continue;
		} else {
			entry = {...base, type, size: 0};
		}
		await out(entryHeader(entry));
		entries++;
	}
	await out(trailer());
	return {entries, files, bytes};
}

/** Writes one regular file: header, content in pieces, padding. Returns its sha256, or undefined when it could not be read whole. */
async function writeFile(
	source: Source,
	view: FsView,
	path: string,
	rel: string,
	entry: TarEntry,
	buffer: Buffer,
	out: (b: Buffer) => Promise<void>,
	onProblem: (f: Finding) => void,
): Promise<string | undefined> {
	const size = entry.size;
	const sha = createHash('sha256');
	await out(entryHeader(entry));
	let pos = 0;
	let complete = true;
	const opened = source.openRead?.(path);
	if (opened === undefined || !opened.ok) {
		complete = false;
		onProblem(finding('error', 'files.unreadable', view.subject, `content of /${rel} cannot be read (${opened === undefined ? 'this source cannot read contents' : opened.error.message}); written as ${size} zero bytes`, path));
	} else {
		const reader = opened.value;
		try {
			while (pos < size) {
				const got = reader.read(buffer.length <= size - pos ? buffer : buffer.subarray(0, size - pos), pos);
				if (!got.ok || got.value === 0) {
					complete = false;
					onProblem(
						finding('error', 'files.unreadable', view.subject, `content of /${rel} ends after ${pos} of ${size} bytes (${got.ok ? 'the file shrank' : got.error.message}); the rest is written as zero bytes`, path),
					);
					break;
				}
				const chunk = Buffer.from(buffer.subarray(0, got.value));
				sha.update(chunk);
				await out(chunk);
				pos += got.value;
			}
		} finally {
			reader.close();
		}
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
