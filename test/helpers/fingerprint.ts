// What the read-only rule is checked with (test/properties/evidence-read-only.ts, test/dockerd/containerd-root.ts): a
// fingerprint of every path under a root, and every file's access time.
import {execFileSync, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A file's bytes, read with O_NOATIME where allowed (the owner or root), so that fingerprinting does not change access times. */
function readQuietly(file: string): Buffer {
	let fd: number;
	try {
		fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOATIME ?? 0));
	} catch {
		return fs.readFileSync(file);
	}
	try {
		return fs.readFileSync(fd);
	} finally {
		fs.closeSync(fd);
	}
}

/** Every path under root: mode, owner, size, mtime and (files) content hash, (symlinks) target, (devices) rdev. Access times are left as they are where the OS allows. */
export function fingerprint(root: string): Map<string, string> {
	const out = new Map<string, string>();
	const walk = (rel: string) => {
		const abs = path.join(root, rel);
		const st = fs.lstatSync(abs);
		let extra = '';
		if (st.isFile()) extra = createHash('sha256').update(readQuietly(abs)).digest('hex');
		else if (st.isSymbolicLink()) extra = fs.readlinkSync(abs);
		else if (st.isCharacterDevice() || st.isBlockDevice()) extra = String(st.rdev);
		out.set(rel, [st.mode, st.uid, st.gid, st.size, st.mtimeMs, extra].join(' '));
		if (st.isDirectory()) for (const name of fs.readdirSync(abs).sort()) walk(rel === '' ? name : `${rel}/${name}`);
	};
	walk('');
	return out;
}

/** Every file's access time. */
export function atimes(root: string): Map<string, number> {
	const out = new Map<string, number>();
	const walk = (rel: string) => {
		const abs = path.join(root, rel);
		const st = fs.lstatSync(abs);
		if (st.isFile()) out.set(rel, st.atimeMs);
		if (st.isDirectory()) for (const name of fs.readdirSync(abs)) walk(rel === '' ? name : `${rel}/${name}`);
	};
	walk('');
	return out;
}

/**
 * Sets every file's access time far before its modification time, so that any read that updates
 * access times (relatime) shows. The modification time is written back at millisecond precision:
 * take fingerprints after this.
 */
export function ageAtimes(root: string): void {
	const walk = (abs: string) => {
		const st = fs.lstatSync(abs);
		if (st.isFile()) fs.utimesSync(abs, new Date(1000), st.mtime);
		if (st.isDirectory()) for (const name of fs.readdirSync(abs)) walk(path.join(abs, name));
	};
	walk(root);
}

// The exact read-only proof (test/properties/evidence-read-only.ts): every path's full lstat (type, mode, owner, size,
// inode, links, device, atime, mtime, ctime, birth time, all in nanoseconds) and extended
// attributes, taken without changing any of them; contents and link targets compared once at
// the end. Names are kept as bytes (latin1 strings, one char per byte) so that any name works.

/** A latin1 (byte) path as the Buffer node's fs wants. */
const bytes = (p: string): Buffer => Buffer.from(p, 'latin1');
const joinRel = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);

export type Tree = {
	/** Every path under the root ('' is the root itself), relative, as latin1 byte strings, sorted. */
	readonly paths: readonly string[];
	/** Per path: a file's sha256, a symlink's target (hex), a device's rdev; '' for the rest. */
	readonly content: ReadonlyMap<string, string>;
};

/**
 * Lists every path under root with its content. This reads every directory and symlink: it
 * changes their access times. Take it before ageing access times, and again only at the end.
 */
export function readTree(root: string, skip: (rel: string) => boolean = () => false): Tree {
	const paths: string[] = [];
	const content = new Map<string, string>();
	const stack = [''];
	while (stack.length > 0) {
		const rel = stack.pop()!;
		if (skip(rel)) continue;
		const abs = bytes(rel === '' ? root : `${root}/${rel}`);
		const st = fs.lstatSync(abs);
		paths.push(rel);
		let extra = '';
		if (st.isFile()) {
			const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | (fs.constants.O_NOATIME ?? 0));
			try {
				const hash = createHash('sha256');
				const buf = Buffer.alloc(1 << 20);
				for (let n: number; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
				extra = hash.digest('hex');
			} finally {
				fs.closeSync(fd);
			}
		} else if (st.isSymbolicLink()) extra = (fs.readlinkSync(abs, {encoding: 'buffer'}) as Buffer).toString('hex');
		else if (st.isCharacterDevice() || st.isBlockDevice()) extra = String(st.rdev);
		content.set(rel, extra);
		if (st.isDirectory()) for (const name of fs.readdirSync(abs, {encoding: 'latin1'})) stack.push(joinRel(rel, name));
	}
	paths.sort();
	return {paths, content};
}

/** getfattr's escapes (\\ooo for bytes it will not print, \\\\ for a backslash) back to a latin1 byte string. */
const unescapeGetfattr = (s: string): string =>
	s.replace(/\\([0-7]{3}|\\)/g, (_, o: string) => (o === '\\' ? '\\' : String.fromCharCode(parseInt(o, 8))));

/**
 * Every extended attribute of these absolute paths (latin1 byte strings), never following a
 * symlink and never reading a directory: `getfattr -h -d -m -` (package attr) on the list, which
 * only calls llistxattr and lgetxattr. Path → "name=value,…" (values hashed); absent when none.
 */
function xattrsOf(paths: readonly string[]): Map<string, string> {
	const out = new Map<string, string>();
	if (paths.length === 0) return out;
	const r = spawnSync('xargs', ['-0', 'getfattr', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--'], {
		input: Buffer.concat(paths.flatMap(p => [bytes(p), Buffer.from([0])])),
		maxBuffer: 1 << 30,
	});
	if (r.error !== undefined || spawnSync('getfattr', ['--version']).error !== undefined)
		throw new Error('getfattr (package attr) is needed to read extended attributes');
	let file: string | null = null;
	const attrs: string[] = [];
	const flush = (): void => {
		if (file !== null && attrs.length > 0) out.set(file, [...attrs].sort().join(','));
		file = null;
		attrs.length = 0;
	};
	for (const line of r.stdout.toString('latin1').split('\n')) {
		if (line.startsWith('# file: ')) {
			flush();
			file = unescapeGetfattr(line.slice(8));
		} else if (line === '') flush();
		else if (file !== null) {
			const eq = line.indexOf('=');
			const name = eq < 0 ? line : line.slice(0, eq);
			attrs.push(
				`${name}=${createHash('sha256')
					.update(eq < 0 ? '' : line.slice(eq + 1))
					.digest('hex')
					.slice(0, 16)}`,
			);
		}
	}
	flush();
	return out;
}

/** Everything lstat says of abs (a latin1 byte string), at nanosecond precision, and its xattrs; 'missing' when gone. Changes nothing. */
function statLine(abs: string, xattrs: ReadonlyMap<string, string>): string {
	let st: fs.BigIntStats;
	try {
		st = fs.lstatSync(bytes(abs), {bigint: true});
	} catch {
		return 'missing';
	}
	const mode = `0${st.mode.toString(8)}`;
	return `mode=${mode} uid=${st.uid} gid=${st.gid} size=${st.size} ino=${st.ino} nlink=${st.nlink} dev=${st.dev} rdev=${st.rdev} atime=${st.atimeNs} mtime=${st.mtimeNs} ctime=${st.ctimeNs} btime=${st.birthtimeNs} xattrs=[${xattrs.get(abs) ?? ''}]`;
}

/** statLine of every path of a tree (root and the paths as latin1 byte strings). */
export function statAll(root: string, paths: readonly string[]): Map<string, string> {
	const abs = paths.map(rel => (rel === '' ? root : `${root}/${rel}`));
	const xattrs = xattrsOf(abs);
	const out = new Map<string, string>();
	paths.forEach((rel, i) => out.set(rel, statLine(abs[i]!, xattrs)));
	return out;
}

/**
 * Sets the access time of every path (directories and symlinks included, never following one) to
 * 1970-01-01 00:00:00 UTC, as `touch -a -h -d @0` does (modification times are left exactly).
 * Throws unless every one of them reads back as 0.
 */
export function ageAll(root: string, paths: readonly string[]): void {
	const list = Buffer.concat(paths.flatMap(rel => [bytes(rel === '' ? root : `${root}/${rel}`), Buffer.from([0])]));
	execFileSync('xargs', ['-0', 'touch', '-a', '-h', '-d', '@0', '--'], {input: list});
	const young = paths.filter(
		rel => fs.lstatSync(bytes(rel === '' ? root : `${root}/${rel}`), {bigint: true}).atimeNs !== 0n,
	);
	if (young.length > 0) throw new Error(`access times not aged: ${young.slice(0, 5).join(', ')}`);
}

/** What differs between two statAll maps, one line per path and field: "path: atime 0 → 1733…". */
export function differences(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
	const out: string[] = [];
	for (const [rel, was] of before) {
		const now = after.get(rel) ?? 'missing';
		if (now === was) continue;
		const a = new Map(was.split(' ').map(f => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] as const));
		const b = new Map(now.split(' ').map(f => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] as const));
		const fields = now === 'missing' ? ['missing'] : [...a.keys()].filter(k => a.get(k) !== b.get(k));
		out.push(
			`${rel === '' ? '.' : Buffer.from(rel, 'latin1').toString('utf8')}: ${fields.map(k => (k === 'missing' ? 'removed' : `${k} ${a.get(k)} → ${b.get(k)}`)).join(', ')}`,
		);
	}
	for (const rel of after.keys()) if (!before.has(rel)) out.push(`${rel}: new`);
	return out;
}
