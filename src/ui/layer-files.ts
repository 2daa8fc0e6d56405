/**
 * A first look at a layer's files: the top-level entries of its directory, read through the
 * model's Source (read-only, lstat only, never following a symlink), at most `limit` of them.
 */
import type {EntryKind, Source} from '../sources/source.ts';
import {joinPath} from '../sources/source.ts';

export type FileEntry = {readonly name: string; readonly kind: EntryKind; readonly whiteout: boolean};

export type FileListing =
	| {readonly ok: true; readonly entries: readonly FileEntry[]; readonly total: number}
	| {readonly ok: false; readonly error: string};

const listingLimit = 20;

/**
 * Lists `dir` (relative to the root). On overlay-style layers a character device 0/0 is a
 * whiteout: the file was deleted in this layer.
 */
function listLayerFiles(source: Source, dir: string, limit = listingLimit): FileListing {
	const listed = source.list(dir);
	if (!listed.ok) return {ok: false, error: listed.error.message};
	const entries = listed.value.slice(0, limit).map(e => {
		let whiteout = false;
		if (e.kind === 'char') {
			const st = source.stat(joinPath(dir, e.name));
			whiteout = st.ok && st.value.rdev !== undefined && st.value.rdev.major === 0 && st.value.rdev.minor === 0;
		}
		return {name: e.name, kind: e.kind, whiteout};
	});
	return {ok: true, entries, total: listed.value.length};
}

/** A cache in front of listLayerFiles, so that moving the cursor back and forth reads each directory once. */
export function makeFileLister(source: Source | null): (dir: string) => FileListing | null {
	if (source === null) return () => null;
	const cache = new Map<string, FileListing>();
	return dir => {
		let hit = cache.get(dir);
		if (hit === undefined) {
			hit = listLayerFiles(source, dir);
			cache.set(dir, hit);
		}
		return hit;
	};
}
