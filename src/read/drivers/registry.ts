import {type Finding, finding} from '../../finding.ts';
import {type DriverMeta, type HostDriverRecord, type RawDriverRecord, devicemapperSkip, readBtrfsQuotas, readDevicemapperMeta, readWindowsLayerChains} from './meta.ts';
import {sourceErrorFinding} from '../json-files.ts';
import type {Source, SourceError} from '../../sources/source.ts';

/**
 * Storage drivers, as a plain registry: where each keeps a layer's files, and which
 * directory lists the layers it holds. Content-level records (overlay2 `lower`, aufs
 * `layers/<id>`) are read on demand by the checks, not here.
 */
export type DriverInfo = {
	/** Directory, relative to the root, that has one entry per layer id. */
	readonly layersDir: string;
	/** Directory holding a layer's files, relative to the root. */
	layerPath(cacheId: string): string;
	/** How its layers store deletions. */
	readonly family: 'diff' | 'flattened';
	/** Where a container's RW and init layer keep their files, when not layerPath (legacy overlay: `upper/`). */
	rwPath?(cacheId: string): string;
	/** A containerd snapshotter (the containerd image store, src/read/containerd/store.ts): layer ids are its snapshot ids. */
	readonly containerd?: true;
	/** Layer content that cannot be read from a copy of the root: why (devicemapper thin devices, ZFS datasets, Windows layers). */
	readonly contentNote?: string;
	/**
	 * What says that a layer exists, when not a directory in layersDir: 'file', one file per layer
	 * there (devicemapper keeps a device record per layer in metadata/; moby removes a device's
	 * mount point mnt/<id> when it unmounts it); 'unknown', nothing in the root (zfs: the layers are
	 * datasets, and zfs/graph/<id> mount points are removed at unmount), so no layer is reported missing.
	 */
	readonly presence?: 'file' | 'unknown';
	/** What an entry of layersDir is, for findings (default 'directory'). */
	readonly entryName?: string;
	/** Entries of layersDir that are not layers (devicemapper's base device and device-set records). */
	skipEntry?(name: string): boolean;
};

export const drivers = {
	overlay2: {layersDir: 'overlay2', layerPath: id => `overlay2/${id}/diff`, family: 'diff'},
	'fuse-overlayfs': {layersDir: 'fuse-overlayfs', layerPath: id => `fuse-overlayfs/${id}/diff`, family: 'diff'},
	aufs: {layersDir: 'aufs/diff', layerPath: id => `aufs/diff/${id}`, family: 'diff'},
	vfs: {layersDir: 'vfs/dir', layerPath: id => `vfs/dir/${id}`, family: 'flattened'},
	// moby@v20.10.24 daemon/graphdriver/overlay/overlay.go: image layers are full copies in root/ (hard-linked);
	// a container's layer and its init layer keep their changes in upper/ (with lower-id naming the image layer).
	overlay: {layersDir: 'overlay', layerPath: id => `overlay/${id}/root`, rwPath: id => `overlay/${id}/upper`, family: 'flattened'},
	btrfs: {layersDir: 'btrfs/subvolumes', layerPath: id => `btrfs/subvolumes/${id}`, family: 'flattened'},
	zfs: {
		layersDir: 'zfs/graph',
		layerPath: id => `zfs/graph/${id}`,
		family: 'flattened',
		presence: 'unknown',
		contentNote:
			"zfs layers are ZFS datasets <fsname>/<id> (each layer's dataset is shown); fsname, the daemon's zfs.fsname option or the dataset mounted on the data root, is not recorded in the root, and zfs/graph/<id> are only mount points (removed when a layer is unmounted, empty in a file copy): the layers' files and whether their datasets still exist cannot be known from the root",
	},
	devicemapper: {
		layersDir: 'devicemapper/metadata',
		layerPath: id => `devicemapper/mnt/${id}/rootfs`,
		family: 'flattened',
		presence: 'file',
		entryName: 'device record',
		skipEntry: devicemapperSkip,
		contentNote:
			"devicemapper layers are thin devices inside the pool (devicemapper/devicemapper/data, or a block device); their files cannot be read offline; each layer's device record (devicemapper/metadata/<id>) and the device set's records are shown, and devicemapper/mnt/<id> are only mount points (removed at unmount)",
	},
	windowsfilter: {
		layersDir: 'windowsfilter',
		layerPath: id => `windowsfilter/${id}`,
		family: 'flattened',
		contentNote: 'windowsfilter layers (Files/, Hives/, sandbox.vhdx) are Windows container layers; layerlens names them but does not read their content',
	},
	// The containerd image store's snapshotters (the reference layout notes §6; containerd plugins/snapshots/{overlay,native}):
	// config.v2.json's Driver names the snapshotter; a snapshot's directory is snapshots/<id>, <id> from the
	// snapshotter's metadata.db. overlayfs keeps each snapshot's own changes in fs/ with kernel-overlay whiteouts.
	overlayfs: {
		layersDir: 'containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots',
		layerPath: id => `containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/${id}/fs`,
		family: 'diff',
		containerd: true,
	},
	native: {
		layersDir: 'containerd/daemon/io.containerd.snapshotter.v1.native/snapshots',
		layerPath: id => `containerd/daemon/io.containerd.snapshotter.v1.native/snapshots/${id}`,
		family: 'flattened',
		containerd: true,
	},
} as const satisfies Record<string, DriverInfo>;

export type DriverName = keyof typeof drivers;

export function isDriverName(name: string): name is DriverName {
	return Object.hasOwn(drivers, name);
}

/** What a driver directory holds: the layer ids that have a directory (or, for devicemapper, a device record) there. */
export type RawDriverDir = {
	readonly name: string;
	readonly present: boolean;
	readonly layerIds: ReadonlySet<string>;
	readonly findings: Finding[];
	/** What the driver records about each layer outside its files (devicemapper, btrfs quotas, windowsfilter layerchain.json), by layer id. */
	readonly records?: ReadonlyMap<string, RawDriverRecord>;
	/** What the driver records about itself (devicemapper's device set and pool files). */
	readonly hostRecords?: readonly HostDriverRecord[];
	/**
	 * overlay2, fuse-overlayfs, legacy overlay: each layer directory's content directory (`<id>/diff`;
	 * legacy overlay `<id>/root` and `<id>/upper`), by its path relative to the root, as listed once.
	 */
	readonly contents?: ReadonlyMap<string, ContentDir>;
};

/** A layer's content directory as found: a directory (`empty`: listed and found empty), or why it cannot be read. */
export type ContentDir =
	| {readonly path: string; readonly state: 'dir'; readonly empty: boolean}
	| {readonly path: string; readonly state: 'missing' | 'symlink' | 'not-a-dir' | 'unreadable'; readonly detail: string};

/** The drivers whose layer directory holds its files in a subdirectory, and those subdirectories. */
const contentSubdirs: Readonly<Record<string, readonly string[]>> = {overlay2: ['diff'], 'fuse-overlayfs': ['diff'], overlay: ['root', 'upper']};

/**
 * Looks at one content directory: whether it is there, a directory, readable and (`list`) empty.
 * Without `list` (a container's RW or init layer, read as root: emptiness says nothing there and root
 * reads any directory) one lstat answers.
 */
function probeContentDir(source: Source, path: string, list = true): ContentDir {
	if (!list) {
		const st = source.stat(path);
		if (st.ok) return st.value.kind === 'dir' ? {path, state: 'dir', empty: false} : st.value.kind === 'symlink' ? {path, state: 'symlink', detail: 'is a symlink; not followed'} : {path, state: 'not-a-dir', detail: `is a ${st.value.kind}, not a directory`};
		if (st.error.code !== 'denied' && st.error.code !== 'io') return {path, state: st.error.code === 'missing' ? 'missing' : st.error.code === 'symlink' ? 'symlink' : st.error.code === 'not-a-dir' ? 'not-a-dir' : 'unreadable', detail: st.error.message};
	}
	const listed = source.list(path);
	if (listed.ok) return {path, state: 'dir', empty: listed.value.length === 0};
	const e: SourceError = listed.error;
	const state = e.code === 'missing' ? 'missing' : e.code === 'symlink' ? 'symlink' : e.code === 'not-a-dir' ? 'not-a-dir' : 'unreadable';
	if (state === 'not-a-dir') {
		const st = source.stat(path);
		if (st.ok && st.value.kind === 'symlink') return {path, state: 'symlink', detail: e.message};
	}
	return {path, state, detail: e.message};
}

/** `imageLayers`: the cache ids of image layers (their content directory is listed, to tell an emptied one); undefined: list every one. */
function readContents(source: Source, name: string, ids: ReadonlySet<string>, imageLayers: ReadonlySet<string> | undefined): Map<string, ContentDir> | undefined {
	const subs = contentSubdirs[name];
	if (subs === undefined) return undefined;
	const info: DriverInfo = drivers[name as DriverName];
	const asRoot = source.kind === 'dir' && process.getuid?.() === 0;
	const out = new Map<string, ContentDir>();
	for (const id of ids) {
		if (id === 'l' && name !== 'overlay') continue;
		const image = imageLayers === undefined || imageLayers.has(id);
		for (const sub of subs) {
			const path = `${info.layersDir}/${id}/${sub}`;
			out.set(path, probeContentDir(source, path, !asRoot || (image && sub !== 'upper')));
		}
	}
	return out;
}

/**
 * Lists `<driver>/` (or `aufs/diff`, `vfs/dir`, …) once: one directory read answers "does this layer's
 * directory exist" for every layer. `imageLayers`: the cache ids layerdb names (see readContents).
 */
export function readDriverDir(source: Source, name: string, imageLayers?: ReadonlySet<string>): RawDriverDir {
	if (!isDriverName(name)) {
		return {
			name,
			present: false,
			layerIds: new Set(),
			findings: [finding('warning', 'driver.unknown', `store:${name}`, `unknown storage driver "${name}"`)],
		};
	}
	const info: DriverInfo = drivers[name];
	const listed = source.list(info.layersDir);
	if (!listed.ok) {
		if (listed.error.code === 'missing') {
			// The driver's own records can still be there (devicemapper's pool files without metadata/).
			const top = info.layersDir.split('/')[0]!;
			const meta = top !== info.layersDir && source.stat(top).ok ? driverMeta(source, name, new Set()) : undefined;
			if (meta === undefined) return {name, present: false, layerIds: new Set(), findings: []};
			return {name, present: false, layerIds: new Set(), findings: [...meta.findings], records: meta.records, hostRecords: meta.host};
		}
		return {name, present: false, layerIds: new Set(), findings: [sourceErrorFinding(listed.error, `store:${name}`, `driver directory ${info.layersDir}`)]};
	}
	const kind = info.presence === 'file' ? 'file' : 'dir';
	const ids = new Set<string>();
	for (const e of listed.value) if (e.kind === kind && info.skipEntry?.(e.name) !== true) ids.add(e.name);
	const meta = driverMeta(source, name, ids);
	const contents = readContents(source, name, ids, imageLayers);
	return {
		name,
		present: true,
		layerIds: ids,
		findings: meta === undefined ? [] : [...meta.findings],
		...(meta !== undefined ? {records: meta.records, hostRecords: meta.host} : {}),
		...(contents !== undefined ? {contents} : {}),
	};
}

/** The driver's own records, for the drivers that keep them (driver-meta.ts). */
function driverMeta(source: Source, name: string, ids: ReadonlySet<string>): DriverMeta | undefined {
	if (name === 'devicemapper') return readDevicemapperMeta(source, ids);
	if (name === 'btrfs') return readBtrfsQuotas(source);
	if (name === 'windowsfilter') return readWindowsLayerChains(source, ids);
	return undefined;
}
