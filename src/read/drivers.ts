import {type Finding, finding} from '../finding.ts';
import {sourceErrorFinding} from './files.ts';
import type {Source} from './source.ts';

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
	/** Layer content that cannot be read from a copy of the root: why (devicemapper thin devices, ZFS datasets, Windows layers). */
	readonly contentNote?: string;
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
		contentNote: 'zfs layers are ZFS datasets (<pool>/<id>); zfs/graph/<id> are only their mountpoints, empty in a file copy of the root',
	},
	devicemapper: {
		layersDir: 'devicemapper/mnt',
		layerPath: id => `devicemapper/mnt/${id}/rootfs`,
		family: 'flattened',
		contentNote: 'devicemapper layers are thin devices inside the pool (devicemapper/devicemapper/data); their files cannot be read offline; devicemapper/metadata/<id> records each device',
	},
	windowsfilter: {
		layersDir: 'windowsfilter',
		layerPath: id => `windowsfilter/${id}`,
		family: 'flattened',
		contentNote: 'windowsfilter layers (Files/, Hives/, sandbox.vhdx) are Windows container layers; layerlens names them but does not read their content',
	},
} as const satisfies Record<string, DriverInfo>;

export type DriverName = keyof typeof drivers;

export function isDriverName(name: string): name is DriverName {
	return Object.hasOwn(drivers, name);
}

/** What a driver directory holds: the layer ids that have a directory there. */
export type RawDriverDir = {
	readonly name: string;
	readonly present: boolean;
	readonly layerIds: ReadonlySet<string>;
	readonly findings: Finding[];
};

/** Lists `<driver>/` (or `aufs/diff`, `vfs/dir`, …) once: one directory read answers "does this layer's directory exist" for every layer. */
export function readDriverDir(source: Source, name: string): RawDriverDir {
	if (!isDriverName(name)) {
		return {
			name,
			present: false,
			layerIds: new Set(),
			findings: [finding('warning', 'driver.unknown', `store:${name}`, `unknown storage driver "${name}"`)],
		};
	}
	const info = drivers[name];
	const listed = source.list(info.layersDir);
	if (!listed.ok) {
		if (listed.error.code === 'missing') {
			return {name, present: false, layerIds: new Set(), findings: []};
		}
		return {name, present: false, layerIds: new Set(), findings: [sourceErrorFinding(listed.error, `store:${name}`, `driver directory ${info.layersDir}`)]};
	}
	const ids = new Set<string>();
	for (const e of listed.value) if (e.kind === 'dir') ids.add(e.name);
	return {name, present: true, layerIds: ids, findings: []};
}
