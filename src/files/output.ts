import {randomBytes} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {Source} from '../sources/source.ts';
import type {Sink} from './export.ts';

/**
 * The only place in src/ that writes a file: the output the user named with `export -o` (and its
 * `.sha256` manifest beside it). The evidence is never written, renamed over or linked to:
 *
 * - Before anything is created, an output is refused when its file or any directory above it
 *   is, by device and inode, the root being read, inside it, or one of its files, however it is
 *   named: a relative path or `..`, a symlink at any component, a bind mount of the root, of a
 *   directory above it or of one below it (filesystem-relative paths from /proc/self/mountinfo),
 *   a hard link (an existing file with other links: replacing it would still change the link
 *   count and ctime of the evidence's inode), the archive itself. Every root counts
 *   (`--containerd-root` too).
 * - The bytes go to a new temporary file beside the output (O_CREAT|O_EXCL|O_NOFOLLOW), renamed
 *   over the output only once everything was written and synced; on any failure, SIGINT or
 *   SIGTERM the temporary file is removed, so no partial output is ever left.
 */

/** A root being read: the Docker root, or the containerd root mounted into it. */
export type Evidence = {readonly location: string; readonly kind: 'dir' | 'archive'; readonly what: string};

/** A write to an output failed (ENOSPC, EIO, EFBIG, …): one line on stderr, exit 4. */
export class OutputError extends Error {}

/** Every root a source reads. */
export function evidenceOf(source: Pick<Source, 'location' | 'kind' | 'mounted'>): Evidence[] {
	const out: Evidence[] = [
		{
			location: source.location,
			kind: source.kind,
			what: source.kind === 'dir' ? 'the Docker root being read' : 'the archive being read',
		},
	];
	const m = source.mounted;
	if (m !== undefined)
		out.push({
			location: m.location,
			kind: m.kind,
			what: m.kind === 'dir' ? 'the containerd root being read' : 'the containerd archive being read',
		});
	return out;
}

/** A root named by a path (compare's snapshots, watch's root): a directory, or else an archive. */
export function rootEvidence(location: string): Evidence {
	let dir = false;
	try {
		dir = fs.statSync(location).isDirectory();
	} catch {
		// missing: the command says so itself
	}
	return {
		location: path.resolve(location),
		kind: dir ? 'dir' : 'archive',
		what: dir ? 'a root being read' : 'an archive being read',
	};
}

/** "no space left on device (ENOSPC)" from a system error. */
export function describeError(error: unknown): string {
	const e = error as NodeJS.ErrnoException;
	const message = typeof e?.message === 'string' ? e.message : String(error);
	// Node's messages read "ENOSPC: no space left on device, write": keep the description.
	const m = /^([A-Z0-9]+): (.*?)(?:, [a-z_]+(?: '.*')?)?$/s.exec(message);
	if (m !== null) return `${m[2]} (${m[1]})`;
	return e?.code !== undefined ? `${message} (${e.code})` : message;
}

type Mount = {readonly dev: string; readonly root: string; readonly point: string};

function unescapeMountField(s: string): string {
	return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** /proc/self/mountinfo's mounts (device, filesystem-relative root, mount point); [] where there is none. */
function readMounts(): Mount[] {
	let text: string;
	try {
		text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
	} catch {
		return [];
	}
	const out: Mount[] = [];
	for (const line of text.split('\n')) {
		const f = line.split(' ');
		if (f.length < 5) continue;
		out.push({dev: f[2]!, root: unescapeMountField(f[3]!), point: unescapeMountField(f[4]!)});
	}
	return out;
}

function under(child: string, parent: string): boolean {
	if (parent === '/') return child.startsWith('/');
	return child === parent || child.startsWith(`${parent}/`);
}

/** Where an absolute, symlink-free path is on its filesystem: the device and the path from that filesystem's root. */
function fsPath(mounts: readonly Mount[], p: string): {dev: string; path: string} | undefined {
	let best: Mount | undefined;
	for (const m of mounts)
		if (under(p, m.point) && (best === undefined || m.point.length >= best.point.length)) best = m;
	if (best === undefined) return undefined;
	const rest = best.point === '/' ? p.slice(1) : p.slice(best.point.length + 1);
	return {dev: best.dev, path: path.posix.join(best.root, rest)};
}

type Id = {readonly dev: number; readonly ino: number};

function same(a: Id, b: Id): boolean {
	return a.dev === b.dev && a.ino === b.ino;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
	try {
		return fs.lstatSync(p);
	} catch {
		return undefined;
	}
}

/**
 * The first symlink among a path's components as written (`..` kept, not folded: `link/..` is
 * caught at `link`), if any; a component that does not exist yet ends the walk.
 */
function symlinkComponent(p: string): string | undefined {
	const parts = p.split('/').filter(x => x !== '');
	let cur = p.startsWith('/') ? '' : process.cwd();
	for (const part of parts) {
		cur = cur === '/' ? `/${part}` : `${cur}/${part}`;
		const st = lstatOrUndefined(cur);
		if (st === undefined) return undefined;
		if (st.isSymbolicLink()) return cur;
	}
	return undefined;
}

/**
 * Why `target` may not be written (one line), or undefined when it may. `target` is the path as
 * the user gave it; nothing is created.
 */
function checkOutputPath(target: string, evidence: readonly Evidence[]): string | undefined {
	if (target === '' || target.endsWith('/')) return `${target || "''"}: names a directory, not a file`;
	const abs = path.resolve(target);
	const base = path.basename(abs);
	if (base === '.' || base === '..' || base === '') return `${target}: names a directory, not a file`;
	// A symlink anywhere in the path (as given, `..` included) is refused: it may lead anywhere, now or later.
	const raw = symlinkComponent(target) ?? symlinkComponent(abs);
	if (raw !== undefined && path.resolve(raw) === abs)
		return `${target}: is a symlink; not followed (name the file itself)`;
	if (raw !== undefined)
		return `${target}: ${raw} is a symlink; layerlens does not write through symlinks (name the real path)`;
	let dir: string;
	try {
		dir = fs.realpathSync(path.dirname(abs));
	} catch (error) {
		return `${target}: its directory cannot be used (${describeError(error)})`;
	}
	const real = path.join(dir, base);
	const existing = lstatOrUndefined(real);
	const alias = aliasOf(real, existing, evidence);
	if (alias !== undefined) return `${target}: ${alias}`;
	if (existing !== undefined) {
		if (existing.isSymbolicLink()) return `${target}: is a symlink; not followed (name the file itself)`;
		if (existing.isDirectory()) return `${target}: is a directory, not a file`;
		if (!existing.isFile())
			return `${target}: exists and is not a regular file; layerlens only replaces regular files (or writes to stdout with -o -)`;
		if (existing.nlink > 1)
			return `${target}: has ${existing.nlink - 1} other hard link${existing.nlink > 2 ? 's' : ''} (it may be a file of the evidence); replacing it would still change that inode's link count and ctime: remove it or name another file`;
	}
	return undefined;
}

/**
 * How a real (symlink-free, absolute) path names the evidence, or undefined: by path, by device
 * and inode of itself or a directory above it, or by its path on its file system (a bind mount).
 */
function aliasOf(real: string, existing: fs.Stats | undefined, evidence: readonly Evidence[]): string | undefined {
	const mounts = readMounts();
	const chain: string[] = [];
	for (let p = real; ; p = path.dirname(p)) {
		chain.push(p);
		if (p === '/') break;
	}
	for (const e of evidence) {
		let root: string;
		try {
			root = fs.realpathSync(e.location);
		} catch {
			root = path.resolve(e.location);
		}
		const st = lstatOrUndefined(root);
		const id = st === undefined ? undefined : {dev: st.dev, ino: st.ino};
		const refuse = (why: string, how = ''): string => `${why} ${e.what} (${root})${how}; layerlens never writes there`;
		if (e.kind === 'dir' && under(real, root)) return refuse(real === root ? 'is' : 'is inside');
		if (e.kind === 'archive' && real === root) return refuse('is');
		if (id !== undefined) {
			for (const p of chain) {
				const pst = p === real ? existing : lstatOrUndefined(p);
				if (pst !== undefined && same(pst, id)) return refuse(p === real ? 'is' : `is inside ${p}, which is`);
			}
		}
		const rootFs = fsPath(mounts, root);
		if (rootFs === undefined) continue;
		const at = fsPath(mounts, real);
		if (at === undefined || at.dev !== rootFs.dev) continue;
		const mp = mountPointOf(mounts, real);
		if (e.kind === 'dir' && under(at.path, rootFs.path))
			return refuse(at.path === rootFs.path ? 'is' : 'is inside', `, seen through the mount at ${mp}`);
		if (e.kind === 'archive' && at.path === rootFs.path) return refuse('is', `, seen through the mount at ${mp}`);
	}
	return undefined;
}

/**
 * Standard output, when it is a regular file (`layerlens model >> FILE`): refused like an `-o`
 * file when it is, or is inside, the evidence, or has other hard links. The shell opened it, so
 * nothing can be done about what `>` already truncated, but nothing more is written.
 */
export function checkStdout(evidence: readonly Evidence[], fd = 1): string | undefined {
	let st: fs.Stats;
	let where: string;
	try {
		st = fs.fstatSync(fd);
		if (!st.isFile()) return undefined;
		where = fs.readlinkSync(`/proc/self/fd/${fd}`);
	} catch {
		return undefined;
	}
	if (!path.isAbsolute(where)) return undefined;
	const alias = aliasOf(where.replace(/ \(deleted\)$/, ''), st, evidence);
	if (alias !== undefined) return `standard output (${where}) ${alias}`;
	if (st.nlink > 1)
		return `standard output (${where}) has ${st.nlink - 1} other hard link${st.nlink > 2 ? 's' : ''} (it may be a file of the evidence); write to another file`;
	return undefined;
}

function mountPointOf(mounts: readonly Mount[], p: string): string {
	let best = '/';
	for (const m of mounts) if (under(p, m.point) && m.point.length >= best.length) best = m.point;
	return best;
}

export type OutputFile = Sink & {
	readonly path: string;
	/** Syncs and closes the temporary file (a write error throws OutputError). */
	finish(): void;
	/** Renames the finished temporary file over the output. */
	commit(): void;
	/** Closes and removes the temporary file; never throws. */
	abort(): void;
};

export type OutputResult =
	| {readonly ok: true; readonly files: OutputFile[]}
	| {readonly ok: false; readonly error: string};

/** Temporary files not yet renamed or removed: removed on exit, SIGINT and SIGTERM. */
const live = new Set<string>();
let hooked = false;

function removeLive(): void {
	for (const p of live) {
		try {
			fs.unlinkSync(p);
		} catch {
			// already gone
		}
	}
	live.clear();
}

function hook(): void {
	if (hooked) return;
	hooked = true;
	process.on('exit', removeLive);
	for (const [signal, code] of [
		['SIGINT', 130],
		['SIGTERM', 143],
		['SIGHUP', 129],
	] as const) {
		process.on(signal, () => {
			removeLive();
			process.exit(code);
		});
	}
}

/** Bytes written between two turns of the event loop. */
const YIELD_EVERY = 4 << 20;

function writeAll(fd: number, chunk: Buffer, target: string): void {
	let off = 0;
	try {
		while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
	} catch (error) {
		throw new OutputError(`${target}: cannot be written: ${describeError(error)}`);
	}
}

/**
 * Checks every target first (nothing is created if one is refused), then opens a temporary file
 * beside each. The caller writes, then finish()es and commit()s each, or abort()s them all.
 */
export function openOutputs(targets: readonly string[], evidence: readonly Evidence[]): OutputResult {
	for (const t of targets) {
		const refused = checkOutputPath(t, evidence);
		if (refused !== undefined) return {ok: false, error: refused};
	}
	hook();
	const files: OutputFile[] = [];
	for (const target of targets) {
		const f = openOne(target, evidence);
		if (!f.ok) {
			for (const g of files) g.abort();
			return f;
		}
		files.push(f.file);
	}
	return {ok: true, files};
}

/** The temporary name beside the output, so that the rename stays on its file system; a name near NAME_MAX gets a short one. */
function tempNameFor(dir: string, base: string): string {
	return path.join(
		dir,
		`.${Buffer.byteLength(base) > 200 ? '' : `${base}.`}layerlens-${process.pid}-${randomBytes(6).toString('hex')}.tmp`,
	);
}

/** One output being written: an open temporary file, renamed over the target on commit. */
class TempOutput implements OutputFile {
	readonly path: string;
	readonly #tmp: string;
	readonly #fd: number;
	readonly #evidence: readonly Evidence[];
	#closed = false;
	#since = 0;

	constructor(target: string, tmp: string, fd: number, evidence: readonly Evidence[]) {
		this.path = target;
		this.#tmp = tmp;
		this.#fd = fd;
		this.#evidence = evidence;
		live.add(tmp);
	}

	#close(): void {
		if (this.#closed) return;
		this.#closed = true;
		fs.closeSync(this.#fd);
	}

	put(chunk: Buffer): void | Promise<void> {
		writeAll(this.#fd, chunk, this.path);
		// Writes are synchronous: let the event loop run now and then, so that SIGINT and SIGTERM are handled mid-export.
		this.#since += chunk.length;
		if (this.#since < YIELD_EVERY) return;
		this.#since = 0;
		return new Promise(resolve => setImmediate(resolve));
	}

	finish(): void {
		try {
			fs.fsyncSync(this.#fd);
			this.#close();
		} catch (error) {
			throw new OutputError(`${this.path}: cannot be written: ${describeError(error)}`);
		}
	}

	commit(): void {
		// The output may have changed since the first check (a hard link made meanwhile).
		const refused = checkOutputPath(this.path, this.#evidence);
		if (refused !== undefined) throw new OutputError(refused);
		try {
			fs.renameSync(this.#tmp, path.resolve(this.path));
		} catch (error) {
			throw new OutputError(`${this.path}: cannot be written: ${describeError(error)}`);
		}
		live.delete(this.#tmp);
	}

	abort(): void {
		try {
			this.#close();
		} catch {
			// the file is removed below anyway
		}
		try {
			fs.unlinkSync(this.#tmp);
		} catch {
			// already gone
		}
		live.delete(this.#tmp);
	}
}

function openOne(
	target: string,
	evidence: readonly Evidence[],
): {ok: true; file: OutputFile} | {ok: false; error: string} {
	const dir = path.dirname(path.resolve(target));
	const tmp = tempNameFor(dir, path.basename(target));
	let fd: number;
	try {
		fd = fs.openSync(
			tmp,
			fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0),
			0o644,
		);
	} catch (error) {
		return {ok: false, error: `${target}: cannot be created in ${dir} (${describeError(error)})`};
	}
	const file = new TempOutput(target, tmp, fd, evidence);
	// The directory may have been swapped between the check and the open: check the temporary file's name again.
	const again = checkOutputPath(tmp, evidence);
	if (again !== undefined) {
		file.abort();
		return {ok: false, error: again.replace(tmp, target)};
	}
	return {ok: true, file};
}
