import {type Finding, finding} from '../finding.ts';
import type {Entry, Result, Source, Stat} from '../sources/source.ts';
import {type Owner, type OwnerMap, eachOther, isLogName} from './ledger-owners.ts';

/** What one owner holds: every non-directory under its paths, hard links once. */
export type Tally = {
	owner: Owner;
	/** Apparent bytes (st_size) of its files and symlinks. */
	bytes: number;
	/** Allocated bytes (st_blocks × 512) of them; 0 where the source has no block counts. */
	allocated: number;
	files: number;
	/** The part the daemon's own figure counts (a layer's diff/, a volume's _data/; vfs: what differs from the init layer). */
	contentBytes: number;
	/** Allocated bytes of the content part, its directories and its top included (the containerd snapshotters' usage, as `du -B1`). */
	contentAllocated: number;
};

export type SparseFile = {readonly path: string; readonly bytes: number; readonly allocated: number};

export type LedgerWalk = {
	/** By `kind\0ref`: one per owned object. */
	readonly tallies: Map<string, Tally>;
	/** Apparent bytes of every non-directory, hard links once: the sum of the tallies. */
	readonly bytes: number;
	/** Allocated bytes of everything, directories and the root included (as du -B1 -s); null on a source without block counts. */
	readonly allocated: number | null;
	readonly files: number;
	readonly dirs: number;
	/** Entries that could not be listed or sized: counted as unknown, each with a finding. */
	readonly unknown: number;
	readonly sparse: SparseFile[];
	readonly sparseCount: number;
	readonly findings: Finding[];
};

/** Sparse files listed by path; beyond it, counted (and said). */
const sparseCap = 100;
/** Unreadable paths given a finding each; beyond it, one finding with the count. */
const unknownCap = 200;

export type WalkOptions = {readonly progress?: (entries: number, bytes: number) => void};

type State = {
	tallies: Map<string, Tally>;
	seen: Set<string>;
	bytes: number;
	allocated: number;
	hasBlocks: boolean;
	files: number;
	dirs: number;
	unknown: number;
	sparse: SparseFile[];
	sparseCount: number;
	findings: Finding[];
};

function tallyOf(st: State, owner: Owner): Tally {
	const key = `${owner.kind}\0${owner.ref}`;
	let t = st.tallies.get(key);
	if (t === undefined)
		st.tallies.set(key, (t = {owner, bytes: 0, allocated: 0, files: 0, contentBytes: 0, contentAllocated: 0}));
	return t;
}

function unknownAt(st: State, path: string, why: string): void {
	st.unknown++;
	if (st.unknown <= unknownCap)
		st.findings.push(
			finding(
				'warning',
				'disk.unknown-size',
				`dir:${path}`,
				`${path} could not be read (${why}): its bytes are counted as unknown size, not in any category`,
				path,
			),
		);
}

/** The daemon's naive diff (vfs): a file counts when the init layer has none at its path, or one that differs in mode, owner, device, size or mtime. */
function differsFromInit(source: Source, owner: Owner, path: string, s: Stat): boolean {
	if (owner.diffAgainst === undefined || owner.contentRoot === undefined) return true;
	const below = source.stat(`${owner.diffAgainst}/${path.slice(owner.contentRoot.length + 1)}`);
	if (!below.ok) return true;
	const o = below.value;
	return (
		o.mode !== s.mode ||
		o.uid !== s.uid ||
		o.gid !== s.gid ||
		o.rdev?.major !== s.rdev?.major ||
		o.rdev?.minor !== s.rdev?.minor ||
		o.mtimeMs !== s.mtimeMs ||
		o.size !== s.size
	);
}

function countFile(st: State, source: Source, owner: Owner, path: string, r: Result<Stat>): void {
	if (!r.ok) {
		unknownAt(st, path, r.error.message);
		return;
	}
	const s = r.value;
	if (s.nlink !== undefined && s.nlink > 1 && s.ino !== undefined) {
		const key = `${s.dev ?? ''}:${s.ino}`;
		if (st.seen.has(key)) return;
		st.seen.add(key);
	}
	const size = Math.max(0, s.size);
	const allocated = s.blocks === undefined ? 0 : Math.max(0, s.blocks) * 512;
	if (s.blocks === undefined) st.hasBlocks = false;
	const t = tallyOf(st, owner);
	t.bytes += size;
	t.allocated += allocated;
	t.files++;
	if (owner.content === true && differsFromInit(source, owner, path, s)) t.contentBytes += size;
	if (owner.content === true) t.contentAllocated += allocated;
	st.bytes += size;
	st.allocated += allocated;
	st.files++;
	if (s.blocks !== undefined && s.kind === 'file' && allocated < size) {
		st.sparseCount++;
		if (st.sparse.length < sparseCap) st.sparse.push({path, bytes: size, allocated});
	}
}

function countDir(
	st: State,
	source: Source,
	path: string,
	owner?: Owner | typeof eachOther,
	known?: Result<Stat>,
): void {
	st.dirs++;
	// Directories are stat-ed only for their blocks: not once the source has shown it has none.
	if (!st.hasBlocks) return;
	const r = known ?? source.stat(path);
	if (!r.ok) return;
	if (r.value.blocks === undefined) {
		st.hasBlocks = false;
		return;
	}
	const allocated = Math.max(0, r.value.blocks) * 512;
	st.allocated += allocated;
	if (owner !== undefined && owner !== eachOther && owner.content === true)
		tallyOf(st, owner).contentAllocated += allocated;
}

/** The owner of a child that no path names: the parent's, a log of its container, or its own 'other' entry. */
function inherit(parent: Owner | typeof eachOther, path: string, name: string): Owner {
	if (parent === eachOther) return {kind: 'other', ref: path};
	if (parent.logsOf !== undefined)
		return isLogName(parent.logsOf, name)
			? {kind: 'container-logs', ref: parent.logsOf}
			: {kind: 'container-files', ref: parent.ref};
	return parent;
}

/** A directory's entries, with their stats where the source reads them in the same call (listStats). */
function listWithStats(
	source: Source,
	dir: string,
): Result<ReadonlyArray<{readonly name: string; readonly kind: Entry['kind']; readonly stat?: Result<Stat>}>> {
	return source.listStats === undefined ? source.list(dir) : source.listStats(dir);
}

/**
 * Walks the root once, through the Source, and assigns every non-directory to exactly one owner
 * by the nearest named path above it: bounded memory (no per-file object is kept; only the
 * inodes of files with more than one link, to count them once).
 */
export function walkLedger(source: Source, owners: OwnerMap, opts: WalkOptions = {}): LedgerWalk {
	const st: State = {
		tallies: new Map(),
		seen: new Set(),
		bytes: 0,
		allocated: 0,
		hasBlocks: source.kind === 'dir',
		files: 0,
		dirs: 0,
		unknown: 0,
		sparse: [],
		sparseCount: 0,
		findings: [],
	};
	countDir(st, source, '');
	const stack: Array<{path: string; owner: Owner | typeof eachOther}> = [
		{path: '', owner: owners.get('') ?? eachOther},
	];
	let entries = 0;
	while (stack.length > 0) {
		const {path: dir, owner} = stack.pop()!;
		const listed = listWithStats(source, dir);
		if (!listed.ok) {
			unknownAt(st, dir === '' ? '.' : dir, listed.error.message);
			continue;
		}
		for (const e of listed.value) {
			const path = dir === '' ? e.name : `${dir}/${e.name}`;
			const named = owners.get(path);
			const child = named ?? inherit(owner, path, e.name);
			if (e.kind === 'dir') {
				countDir(st, source, path, child, e.stat);
				stack.push({path, owner: child});
			} else
				countFile(
					st,
					source,
					child === eachOther ? {kind: 'other', ref: path} : child,
					path,
					e.stat ?? source.stat(path),
				);
			if (++entries % 20000 === 0) opts.progress?.(entries, st.bytes);
		}
	}
	if (st.unknown > unknownCap)
		st.findings.push(
			finding(
				'warning',
				'disk.unknown-size',
				'root',
				`${st.unknown - unknownCap} more paths could not be read (only the first ${unknownCap} are listed)`,
			),
		);
	if (st.sparseCount > sparseCap)
		st.findings.push(
			finding(
				'info',
				'disk.sparse',
				'root',
				`${st.sparseCount} sparse files (fewer bytes allocated than their size); the first ${sparseCap} are listed`,
			),
		);
	return {
		tallies: st.tallies,
		bytes: st.bytes,
		allocated: st.hasBlocks ? st.allocated : null,
		files: st.files,
		dirs: st.dirs,
		unknown: st.unknown,
		sparse: st.sparse,
		sparseCount: st.sparseCount,
		findings: st.findings,
	};
}
