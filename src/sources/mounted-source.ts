import {type Entry, type FileReader, type MountInfo, type Result, type Source, type SourceError, type Stat, byString, fail, joinPath, ok, splitPath} from './source.ts';

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

export function mountSource(base: Source, at: string, inner: Source): MountedSource {
	const split = splitPath(at);
	if (split === null || split.length === 0) throw new Error(`mountSource: bad mount point ${JSON.stringify(at)}`);
	const atParts: readonly string[] = split;
	const mountPoint = atParts.join('/');

	type Route = {readonly to: 'inner'; readonly rel: string} | {readonly to: 'above'; readonly parts: string[]} | {readonly to: 'base'; readonly rel: string} | {readonly to: 'bad'};

	function route(rel: string): Route {
		const parts = splitPath(rel);
		if (parts === null) return {to: 'bad'};
		let i = 0;
		while (i < parts.length && i < atParts.length && parts[i] === atParts[i]) i++;
		if (i === atParts.length) return {to: 'inner', rel: parts.slice(i).join('/')};
		if (i === parts.length) return {to: 'above', parts};
		return {to: 'base', rel: parts.join('/')};
	}

	const badPath = <T>(rel: string): Result<T> => fail('bad-path', rel, 'path leaves the root');

	/** An inner error, renamed to the virtual path. */
	function virtual<T>(r: Result<T>): Result<T> {
		if (r.ok) return r;
		const e: SourceError = r.error;
		if (e.path.startsWith('/')) return r;
		return {ok: false, error: {...e, path: joinPath(mountPoint, e.path)}};
	}

	/** A directory the mount makes appear (base has none there). */
	const syntheticDir: Stat = {kind: 'dir', size: 0, mode: 0o040755, uid: 0, gid: 0, mtimeMs: 0};

	function list(rel: string): Result<Entry[]> {
		const r = route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return virtual(inner.list(r.rel));
		if (r.to === 'base') return base.list(r.rel);
		const next = atParts[r.parts.length]!;
		const below = base.list(r.parts.join('/'));
		// The root itself must be readable; a directory above the mount point may be absent from base.
		if (!below.ok && r.parts.length === 0) return below;
		const entries = below.ok ? below.value.filter(e => e.name !== next) : [];
		entries.push({name: next, kind: 'dir'});
		entries.sort((a, b) => byString(a.name, b.name));
		return ok(entries);
	}

	function stat(rel: string): Result<Stat> {
		const r = route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return virtual(inner.stat(r.rel));
		if (r.to === 'base') return base.stat(r.rel);
		const own = base.stat(r.parts.join('/'));
		return own.ok && own.value.kind === 'dir' ? own : r.parts.length === 0 ? own : ok(syntheticDir);
	}

	function readFile(rel: string, maxBytes: number): Result<Buffer> {
		const r = route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return virtual(inner.readFile(r.rel, maxBytes));
		if (r.to === 'base') return base.readFile(r.rel, maxBytes);
		return fail('not-a-file', rel, 'is a directory, not a regular file');
	}

	function readLink(rel: string): Result<string> {
		const r = route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'inner') return virtual(inner.readLink(r.rel));
		if (r.to === 'base') return base.readLink(r.rel);
		return fail('not-a-file', rel, 'is not a symlink');
	}

	function openRead(rel: string): Result<FileReader> {
		const r = route(rel);
		if (r.to === 'bad') return badPath(rel);
		if (r.to === 'above') return fail('not-a-file', rel, 'is a directory, not a regular file');
		const from = r.to === 'inner' ? inner : base;
		if (from.openRead === undefined) return fail('io', rel, 'this source cannot read files in pieces');
		const opened = from.openRead(r.rel);
		return r.to === 'inner' ? virtual(opened) : opened;
	}

	/** Either root's content offset; the inner root's after all of the base's, so that each archive is read in its own order. */
	function contentOffset(rel: string): number | undefined {
		const r = route(rel);
		if (r.to === 'inner') {
			const at = inner.contentOffset?.(r.rel);
			return at === undefined || at < 0 ? at : INNER_AFTER + at;
		}
		return r.to === 'base' ? base.contentOffset?.(r.rel) : undefined;
	}

	function xattrs(rel: string): Record<string, Buffer> | undefined {
		const r = route(rel);
		if (r.to === 'inner') return inner.xattrs?.(r.rel);
		if (r.to === 'base') return base.xattrs?.(r.rel);
		return r.to === 'above' ? {} : undefined;
	}

	// Archive damage of either root is reported (load.ts turns `problems` into findings).
	const problems = [...((base as {problems?: string[]}).problems ?? []), ...((inner as {problems?: string[]}).problems ?? []).map(p => `${inner.location}: ${p}`)];

	return {
		kind: base.kind,
		location: base.location,
		list,
		stat,
		readFile,
		readLink,
		...(base.openRead !== undefined || inner.openRead !== undefined ? {openRead} : {}),
		...(base.xattrs !== undefined || inner.xattrs !== undefined ? {xattrs} : {}),
		...(base.contentOffset !== undefined || inner.contentOffset !== undefined ? {contentOffset} : {}),
		// One limit for the whole source: the containerd root's, whose snapshots are the overlay
		// layers this option is for (a base with graph-driver layers too is unusual in this mode).
		xattrLimit: inner.xattrLimit,
		unprotected: joinLimits(base.unprotected, inner.unprotected === undefined ? undefined : `${inner.location}: ${inner.unprotected}`),
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
