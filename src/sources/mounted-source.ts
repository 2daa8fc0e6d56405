import {
	type Entry,
	type FileReader,
	type MountInfo,
	type Result,
	type Source,
	type SourceError,
	type Stat,
	byString,
	fail,
	joinPath,
	ok,
	splitPath,
} from './source.ts';

/** A mounted source keeps both roots' archive problems (load.ts turns them into findings). */
export type MountedSource = Source & {readonly mounted: MountInfo; readonly problems: string[]};

/**
 * One Source made of two: `inner` seen at `at` inside `base`, as a bind mount would show it.
 * A Docker 29 host whose dockerd uses the system containerd keeps the containerd image store in
 * /var/lib/containerd, outside the Docker root; `--containerd-root` mounts that root at
 * `containerd/daemon` (where a dockerd-managed containerd keeps it), so every reader, view and
 * check works unchanged and every path stays relative to the Docker root (virtual).
 *
 * - A path at or under `at` (component-wise: `containerd/daemonX` is not under it) is read from
 *   `inner` with the prefix stripped; errors name the virtual path.
 * - The directories above `at` list `at`'s next component as a directory, even when `base` has
 *   no such directory; `base`'s own entry of that name (if any) is hidden by the mount.
 * - Everything else is `base`. Paths are validated once here (`..` is refused, as by every Source).
 *
 * The caller makes sure `base` has nothing at `at` that the mount would hide (load.ts refuses a
 * root with a non-empty `containerd/daemon`).
 */
/** Added to the inner root's content offsets (2^52: beyond any archive, still an exact number). */
const INNER_AFTER = 2 ** 52;

type Route =
	| {readonly to: 'inner'; readonly rel: string}
	| {readonly to: 'above'; readonly parts: string[]}
	| {readonly to: 'base'; readonly rel: string}
	| {readonly to: 'bad'};

const badPath = <T>(rel: string): Result<T> => fail('bad-path', rel, 'path leaves the root');

/** A directory the mount makes appear (base has none there). */
const syntheticDir: Stat = {kind: 'dir', size: 0, mode: 0o040755, uid: 0, gid: 0, mtimeMs: 0};

/** The two roots and where one is mounted in the other; each operation routes a path to one of them. */
class Mount {
	private readonly base: Source;
	private readonly inner: Source;
	private readonly atParts: readonly string[];
	readonly mountPoint: string;

	constructor(base: Source, atParts: readonly string[], inner: Source) {
		this.base = base;
		this.inner = inner;
		this.atParts = atParts;
		this.mountPoint = atParts.join('/');
	}

	private route(rel: string): Route {
		const parts = splitPath(rel);
		if (parts === null) return {to: 'bad'};
		let i = 0;
		while (i < parts.length && i < this.atParts.length && parts[i] === this.atParts[i]) i++;
		if (i === this.atParts.length) return {to: 'inner', rel: parts.slice(i).join('/')};
		if (i === parts.length) return {to: 'above', parts};
		return {to: 'base', rel: parts.join('/')};
	}

	/** An inner error, renamed to the virtual path. */
	private virtual<T>(r: Result<T>): Result<T> {
		if (r.ok) return r;
		const e: SourceError = r.error;
		if (e.path.startsWith('/')) return r;
		return {ok: false, error: {...e, path: joinPath(this.mountPoint, e.path)}};
	}

	list(rel: string): Result<Entry[]> {
		const r = this.route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return this.virtual(this.inner.list(r.rel));
		if (r.to === 'base') return this.base.list(r.rel);
		const next = this.atParts[r.parts.length]!;
		const below = this.base.list(r.parts.join('/'));
		// The root itself must be readable; a directory above the mount point may be absent from base.
		if (!below.ok && r.parts.length === 0) return below;
		const entries = below.ok ? below.value.filter(e => e.name !== next) : [];
		entries.push({name: next, kind: 'dir'});
		entries.sort((a, b) => byString(a.name, b.name));
		return ok(entries);
	}

	stat(rel: string): Result<Stat> {
		const r = this.route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return this.virtual(this.inner.stat(r.rel));
		if (r.to === 'base') return this.base.stat(r.rel);
		const own = this.base.stat(r.parts.join('/'));
		return own.ok && own.value.kind === 'dir' ? own : r.parts.length === 0 ? own : ok(syntheticDir);
	}

	readFile(rel: string, maxBytes: number): Result<Buffer> {
		const r = this.route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return this.virtual(this.inner.readFile(r.rel, maxBytes));
		if (r.to === 'base') return this.base.readFile(r.rel, maxBytes);
		return fail('not-a-file', rel, 'is a directory, not a regular file');
	}

	readLink(rel: string): Result<string> {
		const r = this.route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return this.virtual(this.inner.readLink(r.rel));
		if (r.to === 'base') return this.base.readLink(r.rel);
		return fail('not-a-file', rel, 'is not a symlink');
	}

	openRead(rel: string): Result<FileReader> {
		const r = this.route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'above') return fail('not-a-file', rel, 'is a directory, not a regular file');
		const from = r.to === 'inner' ? this.inner : this.base;
		if (from.openRead === undefined) return fail('io', rel, 'this source cannot read files in pieces');
		const opened = from.openRead(r.rel);
		return r.to === 'inner' ? this.virtual(opened) : opened;
	}

	/** Either root's content offset; the inner root's after all of the base's, so that each archive is read in its own order. */
	contentOffset(rel: string): number | undefined {
		const r = this.route(rel);
		if (r.to === 'inner') {
			const at = this.inner.contentOffset?.(r.rel);
			return at === undefined || at < 0 ? at : INNER_AFTER + at;
		}
		return r.to === 'base' ? this.base.contentOffset?.(r.rel) : undefined;
	}

	xattrs(rel: string): Record<string, Buffer> | undefined {
		const r = this.route(rel);
		if (r.to === 'inner') return this.inner.xattrs?.(r.rel);
		if (r.to === 'base') return this.base.xattrs?.(r.rel);
		return r.to === 'above' ? {} : undefined;
	}
}

export function mountSource(base: Source, at: string, inner: Source): MountedSource {
	const split = splitPath(at);
	if (split === null || split.length === 0) throw new Error(`mountSource: bad mount point ${JSON.stringify(at)}`);
	const atParts: readonly string[] = split;
	const mount = new Mount(base, atParts, inner);
	const mountPoint = mount.mountPoint;

	// Archive damage of either root is reported (load.ts turns `problems` into findings).
	const problems = [
		...((base as {problems?: string[]}).problems ?? []),
		...((inner as {problems?: string[]}).problems ?? []).map(p => `${inner.location}: ${p}`),
	];

	return {
		kind: base.kind,
		location: base.location,
		list: rel => mount.list(rel),
		stat: rel => mount.stat(rel),
		readFile: (rel, maxBytes) => mount.readFile(rel, maxBytes),
		readLink: rel => mount.readLink(rel),
		...(base.openRead !== undefined || inner.openRead !== undefined
			? {openRead: (rel: string) => mount.openRead(rel)}
			: {}),
		...(base.xattrs !== undefined || inner.xattrs !== undefined ? {xattrs: (rel: string) => mount.xattrs(rel)} : {}),
		...(base.contentOffset !== undefined || inner.contentOffset !== undefined
			? {contentOffset: (rel: string) => mount.contentOffset(rel)}
			: {}),
		// One limit for the whole source: the containerd root's, whose snapshots are the overlay
		// layers this option is for (a base with graph-driver layers too is unusual in this mode).
		xattrLimit: inner.xattrLimit,
		unprotected: joinLimits(
			base.unprotected,
			inner.unprotected === undefined ? undefined : `${inner.location}: ${inner.unprotected}`,
		),
		get atimeLimit(): string | undefined {
			const innerLimit = inner.atimeLimit;
			return joinLimits(base.atimeLimit, innerLimit === undefined ? undefined : `${inner.location}: ${innerLimit}`);
		},
		mounted: {at: mountPoint, location: inner.location, kind: inner.kind},
		problems,
	};
}

function joinLimits(a: string | undefined, b: string | undefined): string | undefined {
	return a === undefined ? b : b === undefined ? a : `${a}; ${b}`;
}
