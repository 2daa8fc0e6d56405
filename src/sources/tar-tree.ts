import {type Entry, type EntryKind, type Result, type Stat, byString, fail, ok, splitPath} from './source.ts';
import {type HardLink, type Member, type TNode, nodeKind, resolve} from './tar-index.ts';

/**
 * Member lookup in an archive's index (tar-source.ts): paths under the Docker root resolved to
 * members with the same rules and errors as the directory Source (no symlink followed, a hard
 * link resolves to its target), and what stat, list, readlink and xattrs make of them.
 */

const S_IFMT: Record<EntryKind, number> = {
	file: 0o100000,
	dir: 0o040000,
	symlink: 0o120000,
	char: 0o020000,
	block: 0o060000,
	fifo: 0o010000,
	socket: 0o140000,
	other: 0,
};

export class TarTree {
	private readonly rootNode: TNode;
	// Inode numbers stand in for member identity: a hard link and its target share one.
	private readonly inodes = new WeakMap<Member, number>();
	private nextIno = 1;

	constructor(rootNode: TNode) {
		this.rootNode = rootNode;
	}

	private inoOf(m: Member): number {
		let n = this.inodes.get(m);
		if (n === undefined) this.inodes.set(m, (n = this.nextIno++));
		return n;
	}

	/** Walks parts[0..upto) as directories, with dir-source's errors. */
	private walkDirs(parts: string[], upto: number): Result<TNode> {
		let node = this.rootNode;
		for (let i = 0; i < upto; i++) {
			const child = node.children?.get(parts[i] ?? '');
			const rel = (): string => parts.slice(0, i + 1).join('/');
			if (child === undefined) return fail('missing', rel(), 'ENOENT');
			const kind = nodeKind(child);
			if (kind === 'symlink') return fail('symlink', rel(), 'is a symlink; not followed');
			if (kind !== 'dir') return fail('not-a-dir', rel(), `is a ${kind}, not a directory`);
			node = child;
		}
		return ok(node);
	}

	/** The node at parts (its parent directories checked), or dir-source's error. */
	private find(rel: string, parts: string[]): Result<TNode> {
		const parent = this.walkDirs(parts, parts.length - 1);
		if (!parent.ok) return parent;
		const last = parts[parts.length - 1];
		if (last === undefined) return parent;
		const node = parent.value.children?.get(last);
		if (node === undefined) return fail('missing', rel, 'ENOENT');
		return ok(node);
	}

	/** The entry of the member at a path (not the root), when the path resolves to one. */
	entryAt(rel: string): Member | HardLink | undefined {
		const parts = splitPath(rel);
		const node = parts === null || parts.length === 0 ? undefined : this.find(rel, parts);
		return node?.ok === true ? node.value.entry : undefined;
	}

	list(rel: string): Result<Entry[]> {
		const parts = splitPath(rel);
		if (parts === null) return fail('bad-path', rel, 'path leaves the root');
		const dir = this.walkDirs(parts, parts.length);
		if (!dir.ok) return dir;
		const entries: Entry[] = [];
		for (const [name, child] of dir.value.children ?? []) entries.push({name, kind: nodeKind(child)});
		entries.sort((a, b) => byString(a.name, b.name));
		return ok(entries);
	}

	private statOf(node: TNode): Stat {
		if (node.entry === undefined) return {kind: 'dir', size: 0, mode: S_IFMT.dir | 0o755, uid: 0, gid: 0, mtimeMs: 0};
		const m = resolve(node.entry);
		const size = m.kind === 'file' ? m.size : m.kind === 'symlink' ? Buffer.byteLength(m.linkname) : 0;
		// Linux symlinks are always rwxrwxrwx, whatever the archive says.
		const mode = S_IFMT[m.kind] | (m.kind === 'symlink' ? 0o777 : m.mode & 0o7777);
		const base = {
			kind: m.kind,
			size,
			mode,
			uid: m.uid,
			gid: m.gid,
			mtimeMs: m.mtimeMs,
			ino: this.inoOf(m),
			nlink: m.links,
		};
		if (m.kind === 'char' || m.kind === 'block') return {...base, rdev: {major: m.devmajor, minor: m.devminor}};
		return base;
	}

	stat(rel: string): Result<Stat> {
		const parts = splitPath(rel);
		if (parts === null) return fail('bad-path', rel, 'path leaves the root');
		const node = this.find(rel, parts);
		if (!node.ok) return node;
		return ok(this.statOf(node.value));
	}

	/** The member behind a path that must be a regular file (a hard link resolves to its target); never a symlink. */
	regularMember(rel: string): Result<Member> {
		const parts = splitPath(rel);
		if (parts === null || parts.length === 0) return fail<never>('bad-path', rel, 'path leaves the root');
		const node = this.find(rel, parts);
		if (!node.ok) return node;
		const kind = nodeKind(node.value);
		if (kind === 'symlink') return fail<never>('symlink', rel, 'is a symlink; not followed');
		if (kind !== 'file' || node.value.entry === undefined)
			return fail<never>('not-a-file', rel, `is a ${kind}, not a regular file`);
		return ok(resolve(node.value.entry));
	}

	readLink(rel: string): Result<string> {
		const parts = splitPath(rel);
		if (parts === null || parts.length === 0) return fail('bad-path', rel, 'path leaves the root');
		const node = this.find(rel, parts);
		if (!node.ok) return node;
		const entry = node.value.entry;
		if (entry === undefined || resolve(entry).kind !== 'symlink') return fail('not-a-file', rel, 'is not a symlink');
		return ok(resolve(entry).linkname);
	}

	xattrs(rel: string): Record<string, Buffer> | undefined {
		const parts = splitPath(rel);
		if (parts === null) return undefined;
		const node = this.find(rel, parts);
		if (!node.ok) return undefined;
		const entry = node.value.entry;
		const out: Record<string, Buffer> = {};
		const stored = entry === undefined ? undefined : resolve(entry).xattrs;
		// Evidence names as keys: defined as own properties, so `__proto__` is a name, not the prototype.
		for (const [key, value] of Object.entries(stored ?? {}))
			Object.defineProperty(out, key, {
				value: Buffer.from(value),
				enumerable: true,
				writable: true,
				configurable: true,
			});
		return out;
	}
}
