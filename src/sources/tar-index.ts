import type {EntryKind} from './source.ts';
import {byString} from './source.ts';
import {type TarHeader, type TarHandler, quote} from '../formats/tar-format.ts';

/**
 * The in-memory index of an archive (tar-source.ts): a trie of member names built while the
 * archive streams past once, with the content of small metadata members cached on the way; then
 * the Docker root found in it, and the cached data trimmed to the metadata under that root.
 */

const MAX_PROBLEMS = 1000;
/** Longest member name accepted, and longest component (Linux NAME_MAX, in bytes). */
const MAX_NAME_CHARS = 16384;
const MAX_COMPONENT_BYTES = 255;

export type Member = {
	readonly kind: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';
	readonly size: number;
	readonly mode: number;
	readonly uid: number;
	readonly gid: number;
	readonly mtimeMs: number;
	readonly linkname: string;
	readonly devmajor: number;
	readonly devminor: number;
	readonly xattrs: Record<string, Buffer> | undefined;
	readonly dataOffset: number;
	/** Names this member has in the archive (itself and its hard links). */
	links: number;
	/** Cached content (metadata files only). */
	data: Buffer | undefined;
	/** Why the content cannot be read (truncated, sparse). */
	unreadable: string | undefined;
	/** While parsing: root depths at which this member's path is a metadata path. */
	depths: number[] | undefined;
};

/** A hard link, kept as such; it resolves to the member it named when it was read. */
export type HardLink = {readonly kind: 'hardlink'; readonly linkname: string; readonly target: Member};

export type TNode = {entry: Member | HardLink | undefined; children: Map<string, TNode> | undefined};

/** What the archive's layout says: which directory names mark its root, which paths are metadata (see tar-source.ts). */
export type Layout = {
	readonly containerd: boolean;
	isMarker(name: string): boolean;
	/** Whether parts[k..] (a path relative to a root at depth k) is a metadata file worth caching. */
	metadata(parts: readonly string[], k: number): boolean;
	/** Whether a directory at parts (relative to the root) can hold metadata files. */
	mayHoldMetadata(parts: readonly string[]): boolean;
};

export function resolve(entry: Member | HardLink): Member {
	return entry.kind === 'hardlink' ? entry.target : entry;
}

export function nodeKind(node: TNode): EntryKind {
	return node.entry === undefined ? 'dir' : resolve(node.entry).kind;
}

/** Splits a stored member name: strips leading '/' and './', drops empty and '.' parts; null with '..'. */
function normalise(name: string): string[] | null {
	const parts = name.split('/').filter(p => p !== '' && p !== '.');
	return parts.some(p => p === '..') ? null : parts;
}

/**
 * Builds the index from the parser's headers (its `handler` is the TarParser's): every member in
 * the trie, the content of metadata members cached while the root's depth is still unknown.
 */
export class TarIndexer {
	readonly top: TNode = {entry: undefined, children: undefined};
	/** Damage, truncation and refused members, in archive order (capped: see finishProblems). */
	readonly problems: string[] = [];
	/** Members holding speculatively cached data. */
	readonly cached = new Set<Member>();
	private dropped = 0;
	private readonly maxMember: number;
	private readonly layout: Layout;
	// The Docker root's depth is unknown while streaming. It is at most the depth of the
	// shallowest image/containers/graph directory seen so far, and (when the root is wrapped in
	// single folders) at most the depth of the directory prefix common to every member so far.
	private commonPrefix: string[] | undefined;
	private shallowestMarker = Infinity;
	private bound = Infinity;
	private current: Member | undefined;

	constructor(maxMember: number, layout: Layout) {
		this.maxMember = maxMember;
		this.layout = layout;
	}

	readonly problem = (message: string): void => {
		if (this.problems.length < MAX_PROBLEMS) this.problems.push(message);
		else this.dropped++;
	};

	/** Says how many problems the cap left out (once, when the index is done). */
	finishProblems(): void {
		if (this.dropped > 0) this.problems.push(`… and ${this.dropped} more problems`);
	}

	/** The handler to give the TarParser of the index pass. */
	handler(): TarHandler {
		return {
			entry: h => this.onEntry(h),
			data: (_h, data) => {
				const current = this.current;
				if (current !== undefined && this.cached.has(current)) current.data = data;
			},
			truncated: () => {
				const current = this.current;
				if (current !== undefined) {
					current.unreadable = 'member is truncated in the archive';
					current.data = undefined;
				}
			},
			problem: this.problem,
		};
	}

	private lookupFull(parts: readonly string[]): TNode | undefined {
		let node: TNode | undefined = this.top;
		for (const part of parts) {
			node = node.children?.get(part);
			if (node === undefined) return undefined;
		}
		return node;
	}

	private insert(parts: readonly string[], entry: Member | HardLink): void {
		let node = this.top;
		for (const part of parts) {
			node.children ??= new Map();
			let child = node.children.get(part);
			if (child === undefined) {
				child = {entry: undefined, children: undefined};
				node.children.set(part, child);
			}
			node = child;
		}
		node.entry = entry;
	}

	/** Narrows the bound on the root's depth with a member's path. */
	private track(parts: readonly string[], kind: EntryKind): void {
		const dirLength = kind === 'dir' ? parts.length : parts.length - 1;
		let commonPrefix = this.commonPrefix;
		if (commonPrefix === undefined) commonPrefix = this.commonPrefix = parts.slice(0, dirLength);
		else {
			let i = 0;
			while (i < commonPrefix.length && i < dirLength && commonPrefix[i] === parts[i]) i++;
			commonPrefix.length = i;
		}
		for (let i = 0; i < parts.length && i < this.shallowestMarker; i++) {
			if (this.layout.isMarker(parts[i] ?? '') && (i < parts.length - 1 || kind === 'dir')) {
				this.shallowestMarker = i;
				break;
			}
		}
		const next = Math.min(commonPrefix.length, this.shallowestMarker);
		if (next < this.bound) this.narrow(next);
	}

	/** The root is no deeper than bound: drops the cached data of members that are metadata only deeper. */
	private narrow(bound: number): void {
		this.bound = bound;
		for (const m of this.cached) {
			m.depths = m.depths?.filter(d => d <= bound);
			if (m.depths === undefined || m.depths.length === 0) {
				m.data = undefined;
				m.depths = undefined;
				this.cached.delete(m);
			}
		}
	}

	private checkName(name: string, what: string): string[] | null {
		if (name.length > MAX_NAME_CHARS) {
			this.problem(`${what} ${quote(name)} has a name over ${MAX_NAME_CHARS} characters; ignored`);
			return null;
		}
		if (name.includes('\0')) {
			this.problem(`${what} ${quote(name)} has a NUL in its name; ignored`);
			return null;
		}
		const parts = normalise(name);
		if (parts === null) {
			this.problem(`${what} ${quote(name)} has a '..' component; ignored`);
			return null;
		}
		if (parts.some(p => Buffer.byteLength(p) > MAX_COMPONENT_BYTES)) {
			this.problem(`${what} ${quote(name)} has a name component over ${MAX_COMPONENT_BYTES} bytes; ignored`);
			return null;
		}
		return parts;
	}

	/** A header: indexed; true when its content is to be collected (a metadata file, cached). */
	private onEntry(h: TarHeader): boolean {
		this.current = undefined;
		const parts = this.checkName(h.name, 'member');
		if (parts === null) return false;
		if (parts.length === 0 && h.type !== 'dir') {
			this.problem(`member ${quote(h.name)} names the archive's top directory but is a ${h.type}; ignored`);
			return false;
		}
		if (h.type === 'hardlink') {
			this.onHardLink(h, parts);
			return false;
		}
		const member: Member = {
			kind: h.type,
			size: h.size,
			mode: h.mode,
			uid: h.uid,
			gid: h.gid,
			mtimeMs: h.mtimeMs,
			linkname: h.type === 'symlink' ? h.linkname : '',
			devmajor: h.devmajor,
			devminor: h.devminor,
			xattrs: h.xattrs,
			dataOffset: h.dataOffset,
			links: 1,
			data: undefined,
			unreadable: h.unreadable,
			depths: undefined,
		};
		this.insert(parts, member);
		this.track(parts, member.kind);
		this.current = member;
		if (member.kind !== 'file' || member.unreadable !== undefined || h.size > this.maxMember || h.dataSize !== h.size)
			return false;
		const depths: number[] = [];
		for (let k = 0; k <= this.bound && k < parts.length; k++) if (this.layout.metadata(parts, k)) depths.push(k);
		if (depths.length === 0) return false;
		member.depths = depths;
		this.cached.add(member);
		return true;
	}

	private onHardLink(h: TarHeader, parts: string[]): void {
		const targetParts = this.checkName(h.linkname, `hard link ${quote(h.name)} → target`);
		if (targetParts === null) return;
		const target = this.lookupFull(targetParts)?.entry;
		if (target === undefined) {
			this.problem(
				`hard link ${quote(h.name)} names ${quote(h.linkname)}, which is not earlier in the archive; ignored`,
			);
			return;
		}
		const member = resolve(target);
		if (member.kind === 'dir') {
			this.problem(`hard link ${quote(h.name)} names directory ${quote(h.linkname)}; ignored`);
			return;
		}
		this.insert(parts, {kind: 'hardlink', linkname: h.linkname, target: member});
		member.links++;
		this.track(parts, member.kind);
	}
}

type Item = {readonly node: TNode; readonly name: string; readonly parent: Item | undefined};

function pathOf(item: Item): string {
	const names: string[] = [];
	for (let i: Item | undefined = item; i?.parent !== undefined; i = i.parent) names.push(i.name);
	return names.reverse().join('/');
}

function isDirNode(n: TNode): boolean {
	return nodeKind(n) === 'dir';
}

/** Finds the Docker root: breadth-first, the shallowest directory with an image/, containers/ or graph/ directory (the top when none). */
export function findRoot(top: TNode, layout: Layout, problem: (message: string) => void): {node: TNode; path: string} {
	let level: Item[] = [{node: top, name: '', parent: undefined}];
	while (level.length > 0) {
		const hits: Array<{node: TNode; path: string}> = [];
		const next: Item[] = [];
		for (const item of level) {
			if (!isDirNode(item.node) || item.node.children === undefined) continue;
			for (const [name, child] of item.node.children) {
				if (layout.isMarker(name) && isDirNode(child)) {
					hits.push({node: item.node, path: pathOf(item)});
					break;
				}
			}
			for (const [name, child] of item.node.children) next.push({node: child, name, parent: item});
		}
		if (hits.length > 0) {
			hits.sort((a, b) => byString(a.path, b.path));
			const first = hits[0]!;
			if (hits.length > 1)
				problem(
					`several Docker roots at the same depth (${hits
						.slice(0, 5)
						.map(h => `${quote(h.path)}`)
						.join(', ')}${hits.length > 5 ? ', …' : ''}); using ${quote(first.path)}`,
				);
			return first;
		}
		level = next;
	}
	problem(
		layout.containerd
			? 'no io.containerd.* directory in the archive; using its top level as the containerd root'
			: 'no image/, containers/ or graph/ directory in the archive; using its top level as the root',
	);
	return {node: top, path: ''};
}

/**
 * Keeps cached data only for metadata paths under the root; returns the metadata members not
 * cached (small enough, readable, but seen before the root's depth was known).
 */
export function keepMetadata(indexer: TarIndexer, rootNode: TNode, layout: Layout, maxMember: number): Set<Member> {
	const keep = new Set<Member>();
	const missing = new Set<Member>();
	const walk = (node: TNode, parts: string[]): void => {
		if (node.entry !== undefined && parts.length > 0) {
			const m = resolve(node.entry);
			if (m.kind === 'file' && layout.metadata(parts, 0)) {
				if (m.data !== undefined) keep.add(m);
				else if (m.unreadable === undefined && m.size <= maxMember && m.size > 0) missing.add(m);
			}
		}
		if (node.children === undefined || !isDirNode(node)) return;
		// Only the top levels can hold metadata paths.
		if (!layout.mayHoldMetadata(parts)) return;
		for (const [name, child] of node.children) {
			parts.push(name);
			walk(child, parts);
			parts.pop();
		}
	};
	walk(rootNode, []);
	for (const m of indexer.cached) {
		m.depths = undefined;
		if (!keep.has(m)) m.data = undefined;
	}
	indexer.cached.clear();
	return missing;
}
