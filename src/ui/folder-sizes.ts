/**
 * Folder sizes for the files view, computed lazily and in small steps: a folder is walked only
 * when its row is shown, a bounded number of entries at a time (step), so the UI handles keys
 * between steps and never waits for a big folder. A folder's size is the apparent size (st_size)
 * of every non-directory under it as the view shows it (the merged view; a layer's view: that
 * layer's own entries), hard links counted once. Pure of Ink and React.
 */
import {type FsView, join, mergedDir} from '../files/view.ts';
import type {Source} from '../sources/source.ts';
import type {FileRow, FilesState} from './files-view.ts';

export type FolderSize = {
	readonly bytes: number;
	readonly files: number;
	/** Directories that could not be listed or entries that could not be sized (counted as unknown). */
	readonly unknown: number;
	readonly done: boolean;
};

type Job = {
	readonly view: FsView;
	/** Only layers above this index count (a layer's view: its own layers); view.layers.length: all. */
	readonly own: number;
	readonly stack: Array<{readonly rel: string; readonly layers: readonly number[]}>;
	readonly seen: Set<string>;
	bytes: number;
	files: number;
	unknown: number;
};

export type FolderSizer = {
	/** The size of a directory row of the files view: known, partial (still walking), or undefined (not asked). */
	readonly get: (files: FilesState, row: FileRow) => FolderSize | undefined;
	/** Asks for the sizes of the directory rows shown (rows[from..to)). */
	readonly request: (files: FilesState, from: number, to: number) => void;
	/** Walks at most `budget` entries; true while work remains. */
	readonly step: (budget: number) => boolean;
};

function keyOf(files: FilesState, row: FileRow): string {
	const here = files.dirs[files.dirs.length - 1]?.rel ?? '';
	return `${files.view.subject}\0${files.ownOnly ? 'own' : 'all'}\0${join(here, row.name)}`;
}

function walkOne(source: Source, job: Job, budget: number): number {
	const dir = job.stack.pop();
	if (dir === undefined) return 0;
	const m = mergedDir(source, job.view, dir.layers, dir.rel);
	job.unknown += m.problems.length;
	let used = 1;
	for (const e of m.entries) {
		if (e.layer >= job.own) continue;
		const rel = join(dir.rel, e.name);
		used++;
		if (e.kind === 'dir') {
			const layers = e.dirLayers.filter(i => i < job.own);
			if (layers.length > 0) job.stack.push({rel, layers});
			continue;
		}
		const st = source.stat(join(job.view.layers[e.layer]!.dir, rel));
		if (!st.ok) {
			job.unknown++;
			continue;
		}
		const s = st.value;
		if (s.nlink !== undefined && s.nlink > 1 && s.ino !== undefined) {
			const k = `${s.dev ?? ''}:${s.ino}`;
			if (job.seen.has(k)) continue;
			job.seen.add(k);
		}
		job.bytes += Math.max(0, s.size);
		job.files++;
	}
	return Math.min(used, budget);
}

export function makeFolderSizer(source: Source): FolderSizer {
	const jobs = new Map<string, Job>();
	/** Keys in the order asked: the walk takes the oldest unfinished first. */
	const queue: string[] = [];
	const sizeOf = (j: Job): FolderSize => ({
		bytes: j.bytes,
		files: j.files,
		unknown: j.unknown,
		done: j.stack.length === 0,
	});
	return {
		get: (files, row) => {
			const j = jobs.get(keyOf(files, row));
			return j === undefined ? undefined : sizeOf(j);
		},
		request: (files, from, to) => {
			for (const row of files.rows.slice(from, to)) {
				if (row.kind !== 'dir' || row.mark === 'D' || row.layers.length === 0) continue;
				const key = keyOf(files, row);
				if (jobs.has(key)) continue;
				const here = files.dirs[files.dirs.length - 1]?.rel ?? '';
				const own = files.ownOnly ? files.own : files.view.layers.length;
				jobs.set(key, {
					view: files.view,
					own,
					stack: [{rel: join(here, row.name), layers: row.layers.filter(i => i < own)}],
					seen: new Set(),
					bytes: 0,
					files: 0,
					unknown: 0,
				});
				queue.push(key);
			}
		},
		step: budget => {
			let left = budget;
			while (left > 0 && queue.length > 0) {
				const job = jobs.get(queue[0]!)!;
				if (job.stack.length === 0) {
					queue.shift();
					continue;
				}
				left -= walkOne(source, job, left);
			}
			while (queue.length > 0 && jobs.get(queue[0]!)!.stack.length === 0) queue.shift();
			return queue.length > 0;
		},
	};
}
