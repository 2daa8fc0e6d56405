/**
 * Lists every entry under a root through its Source (so an archive and a directory list alike,
 * and no symlink is followed), with what is needed to tell whether a file changed between two
 * snapshots: kind, size, mode, owner, mtime, a symlink's target, and for small regular files
 * the sha256 of their content.
 *
 * Union mount points (overlay2/fuse-overlayfs `<id>/merged`, aufs `mnt/<id>`) are listed but
 * not entered: at rest they are empty, and on a live host they hold a whole root file system
 * that belongs to the layers below. Their number of entries is kept instead.
 */
import {createHash} from 'node:crypto';
import type {EntryKind, Source} from '../sources/source.ts';
import {type DriverInfo, drivers} from '../read/drivers/registry.ts';

export type FileInfo = {
	readonly kind: EntryKind;
	readonly size: number;
	readonly mode: number;
	readonly uid: number;
	readonly gid: number;
	readonly mtimeMs: number;
	/** A symlink's target, as stored. */
	readonly target?: string;
	/** sha256 (hex, 16 characters) of a small regular file's content. */
	readonly hash?: string;
	/** A mount point that was not entered: how many entries it holds. */
	readonly mountEntries?: number;
};

export type Listing = {
	readonly files: ReadonlyMap<string, FileInfo>;
	/** Directories that could not be listed, and files that could not be hashed. */
	readonly errors: string[];
	/** The listing stopped at maxEntries. */
	readonly truncated: boolean;
};

export type WalkOptions = {
	/** Hash regular files up to this size (default 256 KiB); 0 hashes nothing (size and mtime only). */
	readonly hashMax?: number;
	/** Stop after this many entries (default 2,000,000). */
	readonly maxEntries?: number;
	/** Enter at most this many levels below a layer's content directory (default: no limit). */
	readonly contentDepth?: number;
};

const known: readonly DriverInfo[] = Object.values(drivers);
/** Where union mounts are, as path parts (`<id>` stands for any name). */
const mountTemplates = known.flatMap(d => (d.unionMount === undefined ? [] : [d.unionMount.split('/')]));

/** A union mount point: entered only while a container runs. */
function isMountPoint(rel: string): boolean {
	const p = rel.split('/');
	return mountTemplates.some(t => t.length === p.length && t.every((part, i) => part === '<id>' || part === p[i]));
}

/** The depth of rel below a layer's content directory, or -1 when it is not inside one. */
function contentLevel(rel: string): number {
	const p = rel.split('/');
	for (const d of known) {
		if (d.contentSubdirs !== undefined) {
			// `<layersDir>/<id>/<sub>/…` (layersDir is one component: overlay2, fuse-overlayfs, overlay).
			if (
				p[0] === d.layersDir &&
				!(d.shortLinks === true && p[1] === 'l') &&
				p[2] !== undefined &&
				d.contentSubdirs.includes(p[2])
			)
				return p.length - 3;
		} else if (d.contentChecked === true && rel.startsWith(`${d.layersDir}/`)) {
			// `<layersDir>/<id>/…`: the layer directory holds the files (aufs/diff, vfs/dir, btrfs/subvolumes).
			return p.length - d.layersDir.split('/').length - 1;
		}
	}
	return -1;
}

export function walk(source: Source, opts: WalkOptions = {}): Listing {
	const hashMax = opts.hashMax ?? 256 * 1024;
	const maxEntries = opts.maxEntries ?? 2_000_000;
	const files = new Map<string, FileInfo>();
	const errors: string[] = [];
	let truncated = false;
	const stack: string[] = [''];
	const hash = (rel: string, info: FileInfo): FileInfo => {
		const r = source.readFile(rel, hashMax);
		if (r.ok) return {...info, hash: createHash('sha256').update(r.value).digest('hex').slice(0, 16)};
		errors.push(`${rel}: cannot be hashed: ${r.error.message}`);
		return info;
	};
	// A compressed archive is read through one inflater: the files are hashed after the walk, in archive order (one pass).
	const offset = source.contentOffset?.bind(source);
	const deferred: Array<{readonly rel: string; readonly at: number}> = [];
	while (stack.length > 0) {
		const dir = stack.pop()!;
		const listed = source.list(dir);
		if (!listed.ok) {
			errors.push(`${dir || '.'}: ${listed.error.message}`);
			continue;
		}
		const subdirs: string[] = [];
		for (const e of listed.value) {
			if (files.size >= maxEntries) {
				truncated = true;
				break;
			}
			const rel = dir === '' ? e.name : `${dir}/${e.name}`;
			const st = source.stat(rel);
			if (!st.ok) {
				errors.push(`${rel}: ${st.error.message}`);
				continue;
			}
			const s = st.value;
			let info: FileInfo = {
				kind: s.kind,
				size: s.kind === 'dir' ? 0 : s.size,
				mode: s.mode & 0o7777,
				uid: s.uid,
				gid: s.gid,
				mtimeMs: s.mtimeMs,
			};
			if (s.kind === 'symlink') {
				const t = source.readLink(rel);
				if (t.ok) info = {...info, target: t.value};
			} else if (s.kind === 'file' && hashMax > 0 && s.size <= hashMax) {
				if (offset === undefined) info = hash(rel, info);
				else deferred.push({rel, at: offset(rel) ?? -1});
			} else if (s.kind === 'dir') {
				if (isMountPoint(rel)) {
					const inside = source.list(rel);
					info = {...info, mountEntries: inside.ok ? inside.value.length : 0};
				} else if (opts.contentDepth === undefined || contentLevel(rel) < opts.contentDepth) subdirs.push(rel);
			}
			files.set(rel, info);
		}
		if (truncated) break;
		// Depth first, in name order.
		for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
	}
	deferred.sort((a, b) => a.at - b.at);
	// Hard links of one member share its offset: hashed once (reading it again would start over).
	let last: {at: number; hash: string | undefined} | undefined;
	for (const d of deferred) {
		const info = files.get(d.rel);
		if (info === undefined) continue;
		if (d.at >= 0 && last?.at === d.at) {
			if (last.hash !== undefined) files.set(d.rel, {...info, hash: last.hash});
			continue;
		}
		const hashed = hash(d.rel, info);
		files.set(d.rel, hashed);
		last = {at: d.at, hash: hashed.hash};
	}
	return {files, errors, truncated};
}
