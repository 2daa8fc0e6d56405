import type {Finding} from '../finding.ts';
import type {Source} from '../sources/source.ts';
import {type FsView, type MergedEntry, join, mergedDir} from './view.ts';

export type Walked = {
	/** Path inside the container's filesystem, without the leading '/'. */
	readonly rel: string;
	readonly entry: MergedEntry;
	readonly depth: number;
};

type Frame = {readonly rel: string; readonly entries: MergedEntry[]; i: number; readonly depth: number};

/**
 * The merged view below directory `rel` (whose contributing layers are `layers`), in preorder,
 * names sorted. Iterative: the stack holds one merged listing per level, so memory follows the
 * depth and the widest directory, not the number of files. Problems (unreadable directories)
 * go to onProblem and the walk goes on.
 */
export function* walkMerged(
	source: Source,
	view: FsView,
	rel: string,
	layers: readonly number[],
	onProblem: (f: Finding) => void,
	descend: (w: Walked) => boolean = () => true,
): Generator<Walked> {
	const first = mergedDir(source, view, layers, rel);
	first.problems.forEach(onProblem);
	const stack: Frame[] = [{rel, entries: first.entries, i: 0, depth: 0}];
	while (stack.length > 0) {
		const top = stack[stack.length - 1]!;
		if (top.i >= top.entries.length) {
			stack.pop();
			continue;
		}
		const entry = top.entries[top.i++]!;
		const w: Walked = {rel: join(top.rel, entry.name), entry, depth: top.depth + 1};
		yield w;
		if (entry.kind === 'dir' && descend(w)) {
			const m = mergedDir(source, view, entry.dirLayers, w.rel);
			m.problems.forEach(onProblem);
			if (m.entries.length > 0) stack.push({rel: w.rel, entries: m.entries, i: 0, depth: w.depth});
		}
	}
}
