import {type Finding, finding} from '../finding.ts';
import {bucketAt} from './bbolt.ts';
import {type DriverInfo, drivers, isDriverName} from './drivers.ts';
import type {Source} from './source.ts';
import {readBolt} from './volumes.ts';

/**
 * The containerd image store (docker-layout.md §6; opt-in from Docker 24, default on fresh
 * installs from 29): images, content and snapshots live in containerd's `meta.db` (namespace
 * `moby`), under `$ROOT/containerd/daemon/` when dockerd runs its own containerd, else in
 * /var/lib/containerd, outside the root. layerlens does not link them yet: this detects the
 * store and says, in one finding, what is there and what is not read.
 */
export const metaDbPath = 'containerd/daemon/io.containerd.metadata.v1.bolt/meta.db';

/** Snapshotter names a container's Driver has in containerd mode (config.v2.json). */
const snapshotters = new Set(['overlayfs', 'native', 'stargz', 'nydus', 'erofs', 'devmapper']);

export type ContainerdStore = {readonly images: number; readonly snapshots: number; readonly findings: Finding[]};

export function detectContainerdStore(source: Source, containerDrivers: ReadonlySet<string>, imageStores: readonly string[]): ContainerdStore {
	const findings: Finding[] = [];
	let images = 0;
	let snapshots = 0;
	const bolt = readBolt(source, metaDbPath, 'store:containerd', 'containerd meta.db');
	if (bolt.db !== undefined) {
		const db = bolt.db;
		for (const [name, count] of [
			['images', (n: number) => (images = n)],
			['snapshots', (n: number) => (snapshots = n)],
		] as const) {
			const at = bucketAt(db, ['v1', 'moby', name]);
			if (at.bucket === undefined) continue;
			const read = db.entries(at.bucket);
			if (name === 'snapshots') {
				// snapshots/<snapshotter>/<key>
				let n = 0;
				for (const e of read.entries) if (e.bucket !== undefined) n += db.entries(e.bucket).entries.length;
				count(n);
			} else count(read.entries.length);
		}
	} else findings.push(...bolt.findings.map(f => ({...f, severity: 'warning' as const})));
	const snapshotterContainers = [...containerDrivers].filter(d => snapshotters.has(d) && !imageStores.includes(d));
	if (images > 0 || snapshots > 0) {
		findings.push(
			finding(
				'error',
				'layout.containerd-store',
				'root',
				`this root uses the containerd image store (namespace "moby" in ${metaDbPath}: ${images} images, ${snapshots} snapshots); its images, content blobs and snapshots are not linked yet, so containers using it show no layer chain`,
				metaDbPath,
			),
		);
	} else if (snapshotterContainers.length > 0) {
		findings.push(
			finding(
				'error',
				'layout.containerd-store',
				'root',
				`containers use the containerd snapshotter ${snapshotterContainers.map(s => `"${s}"`).join(', ')}, but ${bolt.db === undefined ? `${metaDbPath} is absent: the images and snapshots are in the system containerd's root (usually /var/lib/containerd), outside this root` : `${metaDbPath} holds no images or snapshots in namespace "moby"`}; their layers cannot be shown`,
			),
		);
	}
	return {images, snapshots, findings};
}

/** One finding per driver whose layer content cannot be read from a copy of the root. */
export function driverNotes(driverDirs: readonly string[]): Finding[] {
	const out: Finding[] = [];
	for (const d of driverDirs) {
		if (!isDriverName(d)) continue;
		const info: DriverInfo = drivers[d];
		if (info.contentNote !== undefined) out.push(finding('info', 'driver.content-unreadable', `store:${d}`, info.contentNote, d));
	}
	return out;
}
