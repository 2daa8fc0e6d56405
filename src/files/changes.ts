import type {Finding} from '../finding.ts';
import {finding} from '../finding.ts';
import type {Entry, Source, Stat} from '../sources/source.ts';
import {
	type FsView,
	type MergedEntry,
	WH_OPQ,
	isCharWhiteout,
	join,
	mergedDir,
	opaqueXattr,
	rootLayers,
} from './view.ts';

/**
 * `docker diff`, computed from the layer directories. Docker has two algorithms
 * (moby pkg/archive/changes.go), and which one a daemon used depends on its driver:
 * - naive (`ChangesDirs`): the container's merged view against its parent's (the init layer and
 *   the image). An entry is A when only the new view has it, D when only the old one has it (its
 *   children are not listed), C when both have it and mode, owner, device, security.capability
 *   or, for non-directories, size or mtime differ; a directory with changes inside is C too.
 *   vfs, fuse-overlayfs, and overlay2 where the daemon's kernel has redirect_dir (and the dockerd
 *   20.10 on these test machines) use it.
 * - native (`changes()` over the RW directory alone): aufs uses it, with `.wh.<name>` meaning D.
 */
export type ChangeKind = 'A' | 'C' | 'D';
export type Change = {readonly kind: ChangeKind; readonly rel: string};

type Pair = {readonly name: string; readonly n: MergedEntry | undefined; readonly o: MergedEntry | undefined};

type Frame = {
	readonly rel: string;
	readonly items: Pair[];
	i: number;
	/** The directory itself was reported (A or C): inner changes need no C line for it. */
	announced: boolean;
};

function pairs(a: readonly MergedEntry[], b: readonly MergedEntry[]): Pair[] {
	const out: Pair[] = [];
	let i = 0;
	let j = 0;
	while (i < a.length || j < b.length) {
		const x = a[i];
		const y = b[j];
		if (x !== undefined && (y === undefined || x.name < y.name)) {
			out.push({name: x.name, n: x, o: undefined});
			i++;
		} else if (y !== undefined && (x === undefined || y.name < x.name)) {
			out.push({name: y.name, n: undefined, o: y});
			j++;
		} else {
			out.push({name: x!.name, n: x, o: y});
			i++;
			j++;
		}
	}
	return out;
}

/** Go's sameFsTime: equal, or the same second with either side's nanoseconds zero (tar loses them). */
function sameFsTime(aMs: number, bMs: number): boolean {
	if (aMs === bMs) return true;
	const as = Math.floor(aMs / 1000);
	const bs = Math.floor(bMs / 1000);
	return as === bs && (aMs === as * 1000 || bMs === bs * 1000);
}

/** moby's statDifferent. */
function statDifferent(o: Stat, n: Stat): boolean {
	if (o.mode !== n.mode || o.uid !== n.uid || o.gid !== n.gid) return true;
	if ((o.rdev?.major ?? 0) !== (n.rdev?.major ?? 0) || (o.rdev?.minor ?? 0) !== (n.rdev?.minor ?? 0)) return true;
	if (o.kind !== 'dir' && (!sameFsTime(o.mtimeMs, n.mtimeMs) || o.size !== n.size)) return true;
	return false;
}

function capability(source: Source, path: string): string {
	const x = source.xattrs?.(path);
	return x?.['security.capability']?.toString('hex') ?? '';
}

export type NaiveOptions = {
	/**
	 * Only descend into a directory both views have when the new view's top layer contributes to
	 * it (true for stacks that share their lower layers: the rest of the tree is the same).
	 */
	readonly prune: boolean;
	readonly onProblem: (f: Finding) => void;
};

/** What one naive comparison reads from: the source, both views and where problems go. */
type NaiveWalk = {
	readonly source: Source;
	readonly newView: FsView;
	readonly oldView: FsView | null;
	readonly opts: NaiveOptions;
};

/** The stat of an entry in its layer, or undefined (and a finding) when it cannot be read. */
function statEntry(w: NaiveWalk, view: FsView, e: MergedEntry, rel: string): Stat | undefined {
	const r = w.source.stat(join(view.layers[e.layer]!.dir, rel));
	if (!r.ok) {
		w.opts.onProblem(
			finding('error', 'files.unreadable', w.newView.subject, `cannot stat /${rel}: ${r.error.message}`, r.error.path),
		);
		return undefined;
	}
	return r.value;
}

/** The merged listing of a directory in a view (empty with no view or no layers); problems reported. */
function listMerged(w: NaiveWalk, view: FsView | null, layers: readonly number[] | null, rel: string): MergedEntry[] {
	if (view === null || layers === null) return [];
	const m = mergedDir(w.source, view, layers, rel);
	m.problems.forEach(w.opts.onProblem);
	return m.entries;
}

/** Whether a path both views have differs: its stat, or for a file its capability. */
function entryChanged(w: NaiveWalk, n: MergedEntry, o: MergedEntry, rel: string): boolean {
	const ns = statEntry(w, w.newView, n, rel);
	const os = w.oldView === null ? undefined : statEntry(w, w.oldView, o, rel);
	if (ns === undefined || os === undefined) return false;
	if (statDifferent(os, ns)) return true;
	if (ns.kind !== 'file' || w.source.xattrs === undefined) return false;
	return (
		capability(w.source, join(w.newView.layers[n.layer]!.dir, rel)) !==
		capability(w.source, join(w.oldView!.layers[o.layer]!.dir, rel))
	);
}

/** Queues the implied C line of every open directory not yet reported. */
function announceFrames(stack: readonly Frame[], pending: Change[]): void {
	for (const f of stack) {
		if (f.announced) continue;
		f.announced = true;
		pending.push({kind: 'C', rel: f.rel});
	}
}

/** One pair of entries compared: its lines queued, and a frame pushed when a directory is to be walked. */
function comparePair(w: NaiveWalk, p: Pair, parent: string, stack: Frame[], pending: Change[]): void {
	const {name, n, o} = p;
	const rel = join(parent, name);
	if (n === undefined) {
		announceFrames(stack, pending);
		pending.push({kind: 'D', rel});
		return;
	}
	if (o === undefined) {
		announceFrames(stack, pending);
		pending.push({kind: 'A', rel});
		if (n.kind === 'dir')
			stack.push({rel, items: pairs(listMerged(w, w.newView, n.dirLayers, rel), []), i: 0, announced: true});
		return;
	}
	const changed = entryChanged(w, n, o, rel);
	if (changed) {
		announceFrames(stack, pending);
		pending.push({kind: 'C', rel});
	}
	if (n.kind !== 'dir') return;
	if (w.opts.prune && !changed && o.kind === 'dir' && n.dirLayers[0] !== 0) return;
	const old = o.kind === 'dir' ? listMerged(w, w.oldView, o.dirLayers, rel) : [];
	stack.push({rel, items: pairs(listMerged(w, w.newView, n.dirLayers, rel), old), i: 0, announced: changed});
}

/**
 * ChangesDirs(new, old), streamed in path order: one merged listing per level on a stack; a
 * directory's implied C line is written just before its first inner change.
 */
export function* naiveChanges(
	source: Source,
	newView: FsView,
	oldView: FsView | null,
	opts: NaiveOptions,
): Generator<Change> {
	const w: NaiveWalk = {source, newView, oldView, opts};
	const stack: Frame[] = [
		{
			rel: '',
			items: pairs(
				listMerged(w, newView, rootLayers(newView), ''),
				listMerged(w, oldView, oldView === null ? null : rootLayers(oldView), ''),
			),
			i: 0,
			announced: true,
		},
	];
	const pending: Change[] = [];
	while (stack.length > 0) {
		const top = stack[stack.length - 1]!;
		if (top.i >= top.items.length) {
			stack.pop();
			continue;
		}
		comparePair(w, top.items[top.i++]!, top.rel, stack, pending);
		while (pending.length > 0) yield pending.shift()!;
	}
}

type AufsFrame = {readonly rel: string; readonly entries: Entry[]; i: number; changed: boolean};

/** Where an aufs walk reads from and reports to. */
type AufsWalk = {
	readonly source: Source;
	readonly rwDir: string;
	readonly lowerDirs: readonly string[];
	readonly subject: string;
	readonly onProblem: (f: Finding) => void;
};

/** Pushes a directory of the RW layer to walk next (a finding when it cannot be listed). */
function descendAufs(w: AufsWalk, stack: AufsFrame[], rel: string, changed: boolean): void {
	const l = w.source.list(join(w.rwDir, rel));
	if (!l.ok)
		w.onProblem(
			finding('error', 'files.unreadable', w.subject, `cannot list /${rel}: ${l.error.message}`, l.error.path),
		);
	else stack.push({rel, entries: l.value, i: 0, changed});
}

/**
 * How an RW entry that is no whiteout compares with the lower layers: A when none has the path,
 * C when the first that has it differs, `same` when that one is a directory with equal size,
 * mode and mtime.
 */
function againstLower(w: AufsWalk, rel: string, st: Stat): 'A' | 'C' | 'same' {
	for (const lower of w.lowerDirs) {
		const ls = w.source.stat(join(lower, rel));
		if (!ls.ok) continue;
		const same =
			ls.value.kind === 'dir' &&
			st.kind === 'dir' &&
			ls.value.size === st.size &&
			ls.value.mode === st.mode &&
			sameFsTime(ls.value.mtimeMs, st.mtimeMs);
		return same ? 'same' : 'C';
	}
	return 'A';
}

/**
 * moby's `changes()` for aufs (`archive.Changes`): walks the RW directory alone, in lexical
 * order. `.wh.<name>` is D of `<name>` (a nested `.wh..wh..opq` therefore reads as D of
 * `.wh..opq`, as docker prints it); top-level `.wh..wh.*` entries are skipped (not their
 * contents); anything else is C when some lower layer directory has the path (a directory
 * whose size, mode and mtime equal the lower one's is not reported), else A; the parent of
 * an A or D is reported C once unless it was itself reported.
 */
export function* aufsChanges(
	source: Source,
	rwDir: string,
	lowerDirs: readonly string[],
	subject: string,
	onProblem: (f: Finding) => void,
): Generator<Change> {
	const w: AufsWalk = {source, rwDir, lowerDirs, subject, onProblem};
	const listed = source.list(rwDir);
	if (!listed.ok) {
		onProblem(
			finding(
				'error',
				'files.unreadable',
				subject,
				`cannot list the RW layer: ${listed.error.message}`,
				listed.error.path,
			),
		);
		return;
	}
	const stack: AufsFrame[] = [{rel: '', entries: listed.value, i: 0, changed: false}];
	while (stack.length > 0) {
		const top = stack[stack.length - 1]!;
		if (top.i >= top.entries.length) {
			stack.pop();
			continue;
		}
		const e = top.entries[top.i++]!;
		const rel = join(top.rel, e.name);
		const st = source.stat(join(rwDir, rel));
		if (!st.ok) {
			onProblem(
				finding('error', 'files.unreadable', subject, `cannot stat /${rel}: ${st.error.message}`, st.error.path),
			);
			continue;
		}
		const isDir = st.value.kind === 'dir';
		const skipped = top.rel === '' && e.name.startsWith('.wh..wh.');
		const whiteout = e.name.startsWith('.wh.');
		const lower = skipped || whiteout ? 'A' : againstLower(w, rel, st.value);
		if (skipped || lower === 'same') {
			if (isDir) descendAufs(w, stack, rel, false);
			continue;
		}
		const change: Change = whiteout ? {kind: 'D', rel: join(top.rel, e.name.slice(4))} : {kind: lower, rel};
		if ((change.kind === 'A' || change.kind === 'D') && top.rel !== '' && !top.changed) {
			top.changed = true;
			yield {kind: 'C', rel: top.rel};
		}
		yield change;
		if (isDir) descendAufs(w, stack, rel, true);
	}
}

export type LayerStatus = 'added' | 'modified' | 'deleted' | 'opaque';

export type LayerItem = {readonly rel: string; readonly status: LayerStatus; readonly path: string};

/** A flattened (vfs) layer: its directory compared with its parent's, as naive changes. */
function* flattenedItems(
	source: Source,
	layer: FsView,
	below: FsView | null,
	onProblem: (f: Finding) => void,
): Generator<LayerItem> {
	const top = layer.layers[0]!;
	const kindToStatus = {A: 'added', C: 'modified', D: 'deleted'} as const;
	const belowTop = below?.layers[0];
	for (const c of naiveChanges(source, layer, below, {prune: false, onProblem})) {
		yield {
			rel: c.rel,
			status: kindToStatus[c.kind],
			path: join(c.kind === 'D' && belowTop !== undefined ? belowTop.dir : top.dir, c.rel),
		};
	}
}

type LayerFrame = {
	readonly rel: string;
	readonly entries: Entry[];
	i: number;
	readonly below: Map<string, MergedEntry> | null;
};

/** Where a walk of one diff layer reads from and reports to. */
type LayerWalk = {
	readonly source: Source;
	readonly layer: FsView;
	readonly below: FsView | null;
	readonly topDir: string;
	readonly onProblem: (f: Finding) => void;
};

/** The view below's merged entries of a directory, by name (null with no view below). */
function belowEntries(w: LayerWalk, rel: string, layers: readonly number[] | null): Map<string, MergedEntry> | null {
	if (w.below === null || layers === null) return null;
	const m = mergedDir(w.source, w.below, layers, rel);
	m.problems.forEach(w.onProblem);
	return new Map(m.entries.map(e => [e.name, e]));
}

/** A directory of the layer itself, or undefined (and a finding) when it cannot be listed. */
function listLayerDir(w: LayerWalk, rel: string): Entry[] | undefined {
	const l = w.source.list(join(w.topDir, rel));
	if (!l.ok) {
		w.onProblem(
			finding(
				'error',
				'files.unreadable',
				w.layer.subject,
				`cannot list /${rel} in the layer: ${l.error.message}`,
				l.error.path,
			),
		);
		return undefined;
	}
	return l.value;
}

/**
 * What one layer does to the layers below it. Diff drivers: its own directory, walked, with
 * whiteouts read as deletions and opaque directories marked; an entry is `modified` when the
 * view below has the path, else `added`. Flattened drivers (vfs): its directory compared with
 * its parent's (naive comparison), since it is a full copy.
 */
export function* layerItems(
	source: Source,
	layer: FsView,
	below: FsView | null,
	onProblem: (f: Finding) => void,
): Generator<LayerItem> {
	if (layer.style === 'none') {
		yield* flattenedItems(source, layer, below, onProblem);
		return;
	}
	const w: LayerWalk = {source, layer, below, topDir: layer.layers[0]!.dir, onProblem};
	const aufs = layer.style === 'aufs' || layer.style === 'both';
	const overlay = layer.style === 'overlay' || layer.style === 'both';
	const rootEntries = listLayerDir(w, '');
	if (rootEntries === undefined) return;
	const stack: LayerFrame[] = [
		{rel: '', entries: rootEntries, i: 0, below: below === null ? null : belowEntries(w, '', rootLayers(below))},
	];
	while (stack.length > 0) {
		const f = stack[stack.length - 1]!;
		if (f.i >= f.entries.length) {
			stack.pop();
			continue;
		}
		const e = f.entries[f.i++]!;
		const rel = join(f.rel, e.name);
		const path = join(w.topDir, rel);
		if (aufs && e.name.startsWith('.wh.')) {
			if (e.name.startsWith('.wh..wh.') || (layer.style === 'both' && e.kind === 'char')) continue; // the opaque marker is reported on its directory; the rest is housekeeping
			yield {rel: join(f.rel, e.name.slice(4)), status: 'deleted', path};
			continue;
		}
		if (overlay && e.kind === 'char') {
			const st = source.stat(path);
			if (st.ok && isCharWhiteout(st.value)) {
				if (!e.name.startsWith('.wh.')) yield {rel, status: 'deleted', path};
				continue;
			}
		}
		const lower = f.below?.get(e.name);
		let status: LayerStatus = lower !== undefined ? 'modified' : 'added';
		let children: Entry[] | undefined;
		if (e.kind === 'dir') {
			children = listLayerDir(w, rel);
			const opaque =
				(aufs && children?.some(c => c.name === WH_OPQ) === true) || (overlay && opaqueXattr(source, path));
			if (opaque) status = 'opaque';
		}
		yield {rel, status, path};
		if (children !== undefined && children.length > 0) {
			stack.push({
				rel,
				entries: children,
				i: 0,
				below: lower?.kind === 'dir' ? belowEntries(w, rel, lower.dirLayers) : null,
			});
		}
	}
}
