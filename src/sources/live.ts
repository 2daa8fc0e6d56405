/**
 * Whether a root is live (a dockerd or its containerd holds it while layerlens reads it), and a
 * cheap signature of the parts of a root that docker create, start, stop, rm, pull and build
 * change, to tell whether the root changed while it was read.
 *
 * A root is live when, on this machine:
 * - a process holds a lock on one of the bbolt databases dockerd and containerd keep open for as
 *   long as they run (network/files/local-kv.db, volumes/metadata.db, builder/fscache.db,
 *   buildkit/*.db, containerd/daemon/io.containerd.metadata.v1.bolt/meta.db): /proc/locks, by
 *   device and inode; or
 * - something is mounted under the root (a running container's overlay `merged` view or its
 *   `mounts/shm`), or an overlay mount takes a layer directory under the root: /proc/self/mountinfo.
 * Only /proc is read for this, and the root's entries are only stat-ed (no access time changes).
 * An archive is never live. A copy on another machine cannot be told live: its signature still
 * shows a change while it was read.
 */
import fs from 'node:fs';
import type {Source} from './source.ts';
import {driverLayerDirs, graphDrivers} from './driver-dirs.ts';

export type Liveness = {
	readonly live: boolean;
	/** What shows it, one phrase each (for the root.live finding). */
	readonly evidence: readonly string[];
};

const notLive: Liveness = {live: false, evidence: []};

/** The bbolt files dockerd 20.10–29, its buildkit and its managed containerd keep open (and flock-ed) while they run. */
const heldWhileRunning = [
	'network/files/local-kv.db',
	'volumes/metadata.db',
	'builder/fscache.db',
	'buildkit/cache.db',
	'buildkit/containerdmeta.db',
	'buildkit/metadata_v2.db',
	'buildkit/snapshots.db',
	'buildkit/history.db',
	'containerd/daemon/io.containerd.metadata.v1.bolt/meta.db',
];

/** /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeMount = (s: string): string =>
	s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

function readProc(file: string): string {
	try {
		return fs.readFileSync(file, 'latin1');
	} catch {
		return '';
	}
}

const within = (p: string, dir: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);

/** Tells whether a process on this machine holds the root (see the module's comment). `proc` is for tests. */
export function liveness(source: Source, proc = '/proc'): Liveness {
	if (source.kind !== 'dir') return notLive;
	let real: string;
	try {
		real = fs.realpathSync(source.location);
	} catch {
		return notLive;
	}
	const evidence: string[] = [];
	// The mount that holds the root gives its device (as /proc/locks names it); mounts under it show containers at work.
	let device: {major: number; minor: number} | null = null;
	let deepest = -1;
	const under: string[] = [];
	for (const line of readProc(`${proc}/self/mountinfo`).split('\n')) {
		const f = line.split(' ');
		if (f.length < 10) continue;
		const point = unescapeMount(f[4] ?? '');
		const sep = f.indexOf('-', 6);
		const options = sep > 0 ? (f[sep + 3] ?? '') : '';
		if (within(real, point) && point.length > deepest) {
			deepest = point.length;
			const [major, minor] = (f[2] ?? '').split(':').map(Number);
			device =
				major !== undefined && minor !== undefined && Number.isFinite(major) && Number.isFinite(minor)
					? {major, minor}
					: null;
		}
		if (point !== real && within(point, real)) under.push(point.slice(real.length + 1));
		else if (
			options.split(',').some(
				o =>
					/^(upperdir|lowerdir|workdir)=/.test(o) &&
					unescapeMount(o.slice(o.indexOf('=') + 1))
						.split(':')
						.some(d => within(d, real)),
			)
		)
			under.push(`(an overlay mounted at ${point})`);
	}
	if (under.length > 0)
		evidence.push(
			`${under.length} mount${under.length === 1 ? '' : 's'} under it or on its layers (${under.slice(0, 2).join(', ')}${under.length > 2 ? ', …' : ''})`,
		);
	if (device !== null) {
		const locks = new Map<string, number>();
		for (const line of readProc(`${proc}/locks`).split('\n')) {
			const t = line.trim().split(/\s+/);
			const at = t.findIndex(x => /^[0-9a-f]+:[0-9a-f]+:\d+$/.test(x));
			if (at < 1) continue;
			const [ma, mi, ino] = t[at]!.split(':');
			if (parseInt(ma!, 16) !== device.major || parseInt(mi!, 16) !== device.minor) continue;
			locks.set(ino!, Number(t[at - 1]));
		}
		const byPid = new Map<number, string[]>();
		for (const rel of heldWhileRunning) {
			if (locks.size === 0) break;
			const st = source.stat(rel);
			if (!st.ok || st.value.kind !== 'file' || st.value.ino === undefined) continue;
			const pid = locks.get(String(st.value.ino));
			if (pid === undefined) continue;
			byPid.set(pid, [...(byPid.get(pid) ?? []), rel]);
		}
		for (const [pid, rels] of byPid) {
			const comm = pid > 0 ? readProc(`${proc}/${pid}/comm`).trim() : '';
			const who = pid > 0 ? `${comm === '' ? 'process' : comm} (pid ${pid})` : 'an open file description';
			evidence.push(
				`${who} holds a lock on ${rels[0]}${rels.length > 1 ? ` and ${rels.length - 1} more of its databases` : ''}`,
			);
		}
	}
	return evidence.length > 0 ? {live: true, evidence} : notLive;
}

/** Path → what stat says of it (kind, mtime, size, inode); 'absent' when it is not there. */
export type Signature = ReadonlyMap<string, string>;

const watched = [
	'',
	'containers',
	'volumes',
	'image',
	'network/files',
	'containerd/daemon',
	'buildkit',
	...driverLayerDirs,
	...graphDrivers,
	...graphDrivers.flatMap(d => [
		`image/${d}`,
		`image/${d}/repositories.json`,
		`image/${d}/layerdb/sha256`,
		`image/${d}/layerdb/mounts`,
		`image/${d}/imagedb/content/sha256`,
		`image/${d}/imagedb/metadata/sha256`,
	]),
];

/**
 * The signature of a directory root: stat of the directories that creating, starting, stopping
 * and removing containers, layers, images and volumes change (their mtimes move when entries come
 * and go), and with `perContainer` each containers/<id> directory and its config.v2.json (state
 * changes rewrite it). Empty for an archive. Only stat and one listing of containers/.
 */
export function signature(source: Source, perContainer: boolean): Signature {
	const out = new Map<string, string>();
	if (source.kind !== 'dir') return out;
	const put = (rel: string): void => {
		const st = source.stat(rel);
		out.set(rel, st.ok ? `${st.value.kind} ${st.value.mtimeMs} ${st.value.size} ${st.value.ino ?? ''}` : 'absent');
	};
	for (const rel of watched) put(rel);
	if (perContainer) {
		const list = source.list('containers');
		if (list.ok) {
			for (const e of list.value) {
				if (e.kind !== 'dir') continue;
				put(`containers/${e.name}`);
				put(`containers/${e.name}/config.v2.json`);
			}
		}
	}
	return out;
}

/** The paths whose signature differs (added, removed or changed), sorted. */
export function changedPaths(a: Signature, b: Signature): string[] {
	const out = new Set<string>();
	for (const [k, v] of a) if (b.get(k) !== v) out.add(k);
	for (const k of b.keys()) if (!a.has(k)) out.add(k);
	return [...out].sort();
}
