import type {Finding} from '../finding.ts';
import type {Source} from '../sources/source.ts';
import {type FsView, type MergedEntry, join, mergedDir, rootLayers} from './view.ts';

/** Most symlinks followed while resolving one path (Linux's limit). */
const MAX_HOPS = 40;

export type Resolved =
	| {readonly ok: true; readonly rel: string; readonly entry: MergedEntry}
	| {readonly ok: false; readonly error: string};

/**
 * Resolves a path as a process inside the container would, in the merged view: symlinks are
 * followed inside the view (an absolute target starts again at the container's root, `..` stops
 * at the root), never on the host; at most 40 of them. With follow false, a symlink as the last
 * component is returned itself.
 */
export function resolvePath(
	source: Source,
	view: FsView,
	input: string,
	follow: boolean,
	onProblem: (f: Finding) => void,
): Resolved {
	let todo = input.split('/').filter(p => p !== '' && p !== '.');
	const dirs: Array<{rel: string; layers: readonly number[]}> = [{rel: '', layers: rootLayers(view)}];
	let hops = 0;
	if (todo.length === 0)
		return {ok: true, rel: '', entry: {name: '', kind: 'dir', layer: 0, dirLayers: rootLayers(view)}};
	while (todo.length > 0) {
		const part = todo.shift()!;
		const cur = dirs[dirs.length - 1]!;
		if (part === '.') continue;
		if (part === '..') {
			if (dirs.length > 1) dirs.pop();
			if (todo.length === 0) {
				const d = dirs[dirs.length - 1]!;
				return {
					ok: true,
					rel: d.rel,
					entry: {
						name: d.rel.slice(d.rel.lastIndexOf('/') + 1),
						kind: 'dir',
						layer: d.layers[0] ?? 0,
						dirLayers: [...d.layers],
					},
				};
			}
			continue;
		}
		const m = mergedDir(source, view, cur.layers, cur.rel);
		m.problems.forEach(onProblem);
		const entry = m.entries.find(e => e.name === part);
		const rel = join(cur.rel, part);
		if (entry === undefined) return {ok: false, error: `/${rel}: no such file or directory in this view`};
		const last = todo.length === 0;
		if (entry.kind === 'symlink' && (!last || follow)) {
			if (++hops > MAX_HOPS) return {ok: false, error: `${input}: too many levels of symbolic links`};
			const target = source.readLink(join(view.layers[entry.layer]!.dir, rel));
			if (!target.ok) return {ok: false, error: `/${rel}: symlink cannot be read (${target.error.message})`};
			const parts = target.value.split('/').filter(p => p !== '' && p !== '.');
			if (target.value.startsWith('/')) dirs.length = 1;
			todo = [...parts, ...todo];
			if (todo.length === 0) {
				const d = dirs[dirs.length - 1]!;
				return {
					ok: true,
					rel: d.rel,
					entry: {name: '', kind: 'dir', layer: d.layers[0] ?? 0, dirLayers: [...d.layers]},
				};
			}
			continue;
		}
		if (last) return {ok: true, rel, entry};
		if (entry.kind !== 'dir') return {ok: false, error: `/${rel}: not a directory`};
		dirs.push({rel, layers: entry.dirLayers});
	}
	const d = dirs[dirs.length - 1]!;
	return {ok: true, rel: d.rel, entry: {name: '', kind: 'dir', layer: d.layers[0] ?? 0, dirLayers: [...d.layers]}};
}
