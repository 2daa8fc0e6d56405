import {
	type DriverMeta,
	type DriverRecord,
	devicemapperSkip,
	readBtrfsQuotas,
	readDevicemapperMeta,
	readWindowsLayerChains,
	zfsRecord,
} from './meta.ts';
import type {Source} from '../../sources/source.ts';

/**
 * Every storage driver and every fact layerlens knows about it, in one table: where it keeps a
 * layer's files and records, how its layers store deletions, which of its records are checked,
 * what the explanations say about it. Adding a driver is adding one entry here (and, when it keeps
 * records outside the layer's files, their reader in meta.ts). Consumers ask `driverInfo(name)`;
 * they do not compare driver names.
 *
 * Sources rank below readers and cannot ask this table: the driver directories an archive caches
 * and a live root's signature watches are listed in sources/driver-dirs.ts, which a test checks
 * against this table.
 */

/**
 * How a driver's layers store deletions (files/view.ts; the reference layout notes §3):
 * - overlay: a 0/0 character device deletes the name; a directory with the xattr
 *   `trusted.overlay.opaque=y` (or `user.overlay.opaque=y`, rootless) hides what is below it.
 * - aufs: an entry `.wh.<name>` deletes `<name>`; `.wh..wh..opq` makes its directory opaque;
 *   other `.wh..wh.*` entries are aufs housekeeping (`.wh..wh.aufs`, `.wh..wh.plnk/`, `.wh..wh.orph/`).
 * - both (fuse-overlayfs): either encoding, in any layer.
 * - none (vfs and other flattened drivers): every layer is a full copy; the top one is the view.
 */
export type WhiteoutStyle = 'overlay' | 'aufs' | 'both' | 'none';

/** One explained path of a driver (teach/explain.ts shows it as a Note). */
export type DriverNote = {readonly label: string; readonly text: string; readonly optional?: boolean};

/** What the explanations (teach/explain.ts) say about a driver; plain text, cleaned by the views that print it. */
export type DriverExplain = {
	/** The files and directories the driver keeps for one layer, besides its files; a bottom layer (no parent) has fewer. */
	records?(id: string, bottom: boolean): DriverNote[];
	/** How a deletion is recorded in a layer. */
	readonly whiteouts: string;
	/** What the union mount point (unionMount) is, and whether it is there only sometimes. */
	readonly mount?: {readonly text: string; readonly optional?: true};
	/** What the driver does at `docker create`. */
	readonly onCreate: string;
};

/** A directory with one entry per layer, when a driver keeps more than layersDir (aufs). */
export type EntryDir = {
	readonly dir: string;
	readonly kind: 'dir' | 'file';
	/** What a layer's entry there is: its files, its record of the layers below, its union mount point. */
	readonly holds: 'files' | 'ancestry' | 'mount';
	/** Counted in what an orphan holds (default true). */
	readonly sized?: false;
};

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
	/** The subdirectories of `<layersDir>/<id>/` that hold a layer's files, when they are not the layer directory itself. */
	readonly contentSubdirs?: readonly string[];
	/** The directory a layer's removal deletes, when wider than layerPath (overlay2: `<id>/`, around diff/, link, lower, work/). */
	layerDir?(cacheId: string): string;
	/** `<layersDir>/l/` holds the short-name symlinks `l/<short>` → `../<id>/diff`, and is not a layer. */
	readonly shortLinks?: true;
	/** How the layers' files record deletions, for the drivers whose files are read (files/view.ts); absent: not read. */
	readonly whiteouts?: WhiteoutStyle;
	/** Why the layers' files are not read (files, diff, cat, export), for the drivers known not to be readable. */
	readonly filesUnread?: string;
	/**
	 * Image layers are full (hard-linked) copies of the layers up to them, while a container's RW and
	 * init layers keep only their changes (rwPath) over the top image layer (legacy overlay).
	 */
	readonly fullImageLayers?: true;
	/** The driver's own record of a layer's ancestry, compared with layerdb (checks/driver-records.ts): `lower` files and `l/` links, `layers/<id>` files, `layerchain.json`. */
	readonly ancestry?: 'lower' | 'layers-file' | 'layerchain';
	/** Reads what the driver records about each layer (ids: the entries of layersDir) and about itself, outside the layers' files (meta.ts). */
	readMeta?(source: Source, ids: ReadonlySet<string>): DriverMeta;
	/** A layer's record derived from its id when nothing on disk holds one (zfs datasets). */
	derivedRecord?(cacheId: string): DriverRecord;
	/** Its per-layer record has a `deleted` field: true when the device's deletion was deferred (devicemapper). */
	readonly deferredDeletion?: true;
	/** Its layer directory, in a copy of the root, holds the layer's files, so --deep can rebuild the layer's tar stream from them (flattened ones hold them as of that layer). */
	readonly contentChecked?: true;
	/** layerdb's `size` is Docker's directory.Size of the layer's own directory (others sum the tar's file sizes). */
	readonly sizeIsDirSize?: true;
	/** Where a container's union mount is while it runs, `<id>` for the mount id: a walk of the root does not enter it. */
	readonly unionMount?: string;
	/** Every directory with an entry per layer, when there are more than layersDir (aufs: diff/, layers/, mnt/): one area, one orphan. */
	readonly entryDirs?: readonly EntryDir[];
	/** The directory whose entries are the layers' areas when it is not `<driver>/<id>` (teach/areas.ts): vfs/dir, btrfs/subvolumes, … */
	readonly areaDir?: string;
	/** Directories of records the driver keeps for every layer, read whenever the layers are (an archive caches them: sources/driver-dirs.ts). */
	readonly recordDirs?: readonly string[];
	/** Names of the record files in `<layersDir>/<id>/` (cached the same way). */
	readonly recordFiles?: readonly string[];
	/** What the explanations say about it; absent: only the generic words. */
	readonly explain?: DriverExplain;
};

const overlayLike = (drv: 'overlay2' | 'fuse-overlayfs'): DriverInfo => {
	const fuse = drv === 'fuse-overlayfs';
	return {
		layersDir: drv,
		layerPath: id => `${drv}/${id}/diff`,
		family: 'diff',
		contentSubdirs: ['diff'],
		layerDir: id => `${drv}/${id}`,
		shortLinks: true,
		whiteouts: fuse ? 'both' : 'overlay',
		ancestry: 'lower',
		contentChecked: true,
		sizeIsDirSize: true,
		unionMount: `${drv}/<id>/merged`,
		recordFiles: ['link', 'lower'],
		explain: {
			records: (id, bottom) => [
				{
					label: `${drv}/${id}/diff/`,
					text: 'the files this layer adds or changes, and its deletion markers; nothing else',
				},
				{
					label: `${drv}/${id}/link`,
					text: `a short random name for the layer; ${drv}/l/<that name> is a symlink to this diff/, so the mount options listing every lower layer stay short enough for the kernel's page-size limit`,
				},
				...(bottom
					? []
					: [
							{
								label: `${drv}/${id}/lower`,
								text: 'the layers below this one, as l/<short name> entries separated by colons, nearest first (a bottom layer has no lower file)',
							},
							{
								label: `${drv}/${id}/work/`,
								text: `scratch space ${fuse ? 'fuse-overlayfs' : "the kernel's overlayfs"} needs beside the upper directory when this layer is mounted (a bottom layer has no work/)`,
							},
						]),
				{
					label: `${drv}/${id}/committed`,
					text: 'an empty marker written when another layer is created on top: this layer must not change any more (dockerd 19.03 and later)',
					optional: true,
				},
			],
			whiteouts: fuse
				? 'deletions are recorded two ways: image layers unpacked from tar keep the tar convention (an empty file .wh.<name>), while files deleted through the fuse-overlayfs mount become 0:0 character devices named like the file'
				: 'a deleted file or directory is a character device 0:0 with the same name; a directory replaced as a whole carries the extended attribute trusted.overlay.opaque=y',
			mount: {
				text: `where ${fuse ? 'a fuse-overlayfs process' : "the kernel's overlayfs"} mounts the union of the RW, init and image layers: the driver creates it when the container starts and removes it when the container stops, so at rest there is no merged/ at all; a copy that has one (full of files) was taken while the container ran or after the daemon died`,
				optional: true,
			},
			onCreate: `creates two directories, <mount-id>-init and <mount-id>, each with diff/, work/, link and lower; fills the init layer's diff/ with placeholders and leaves the RW layer's diff/ empty`,
		},
	};
};

/** The words for the drivers whose layers are snapshots of their parent (a whole file system each). */
const snapshotWhiteouts = 'each layer is a snapshot of its parent, so a deleted file is simply absent';

/** A containerd snapshotter's directory (the reference layout notes §6; containerd plugins/snapshots/{overlay,native}). */
export const snapshotterRoot = (sn: string): string => `containerd/daemon/io.containerd.snapshotter.v1.${sn}`;

const snapshotterCreate = (sn: string): string =>
	`prepares two snapshots in containerd (namespace moby): <container id>-init on the image's top layer, committed once the placeholders are written, and <container id> on top of it, active: the RW layer; the snapshotter gives each a directory ${snapshotterRoot(sn)}/snapshots/<n>/, and mounts the union at rootfs/${sn}/<container id> while the container runs`;

export const drivers = {
	overlay2: overlayLike('overlay2'),
	'fuse-overlayfs': overlayLike('fuse-overlayfs'),
	aufs: {
		layersDir: 'aufs/diff',
		layerPath: id => `aufs/diff/${id}`,
		family: 'diff',
		whiteouts: 'aufs',
		ancestry: 'layers-file',
		contentChecked: true,
		sizeIsDirSize: true,
		unionMount: 'aufs/mnt/<id>',
		entryDirs: [
			{dir: 'aufs/diff', kind: 'dir', holds: 'files'},
			{dir: 'aufs/layers', kind: 'file', holds: 'ancestry', sized: false},
			{dir: 'aufs/mnt', kind: 'dir', holds: 'mount'},
		],
		recordDirs: ['aufs/layers'],
		explain: {
			records: id => [
				{label: `aufs/diff/${id}/`, text: 'the files this layer adds or changes, and its deletion markers'},
				{
					label: `aufs/layers/${id}`,
					text: 'a text file listing the cache ids of the layers below this one, one per line, nearest first; empty for a bottom layer',
				},
			],
			whiteouts:
				'a deleted file is an empty file .wh.<name> next to where it was; .wh..wh..opq marks a directory replaced as a whole; other .wh..wh.* entries are aufs housekeeping',
			mount: {
				text: 'where aufs mounts the union of the RW, init and image layers while the container runs; made at docker create and kept, empty at rest and in a copy taken while the container was stopped',
			},
			onCreate:
				'creates aufs/diff/<mount-id>-init and aufs/diff/<mount-id>, writes aufs/layers/ files for both, and creates their (empty) mount points under aufs/mnt/',
		},
	},
	vfs: {
		layersDir: 'vfs/dir',
		layerPath: id => `vfs/dir/${id}`,
		family: 'flattened',
		whiteouts: 'none',
		contentChecked: true,
		areaDir: 'vfs/dir',
		explain: {
			records: id => [
				{
					label: `vfs/dir/${id}/`,
					text: "a complete copy of the file system as of this layer: the parent's files plus this layer's changes",
				},
			],
			whiteouts:
				'there are no deletion markers: each layer is a full copy, so a deleted file is simply absent from the copy',
			onCreate:
				"copies the whole image into vfs/dir/<mount-id>-init, adds the placeholders, then copies all of that again into vfs/dir/<mount-id>: slow and large, but it works on any file system; there is no union mount, the container's root is that directory itself",
		},
	},
	// moby@v20.10.24 daemon/graphdriver/overlay/overlay.go: image layers are full copies in root/ (hard-linked);
	// a container's layer and its init layer keep their changes in upper/ (with lower-id naming the image layer).
	overlay: {
		layersDir: 'overlay',
		layerPath: id => `overlay/${id}/root`,
		rwPath: id => `overlay/${id}/upper`,
		family: 'flattened',
		contentSubdirs: ['root', 'upper'],
		whiteouts: 'overlay',
		fullImageLayers: true,
		contentChecked: true,
		unionMount: 'overlay/<id>/merged',
		recordFiles: ['lower-id'],
		explain: {
			records: id => [
				{
					label: `overlay/${id}/root/`,
					text: 'for an image layer: a complete file system (files shared with the parent layer through hard links)',
				},
				{label: `overlay/${id}/upper/`, text: "for the init and RW layers: the changes, on top of lower-id's root/"},
				{label: `overlay/${id}/lower-id`, text: 'the cache id of the image layer whose root/ is the lower directory'},
			],
			whiteouts: 'in upper/, a deleted file is a 0:0 character device; image layers are full copies',
			mount: {text: 'the union mount point, empty unless the container runs', optional: true},
			onCreate:
				'creates the init and RW layer directories with upper/, work/, merged/ and lower-id (the legacy overlay driver, removed in Docker 24)',
		},
	},
	btrfs: {
		layersDir: 'btrfs/subvolumes',
		layerPath: id => `btrfs/subvolumes/${id}`,
		family: 'flattened',
		whiteouts: 'none',
		readMeta: source => readBtrfsQuotas(source),
		contentChecked: true,
		areaDir: 'btrfs/subvolumes',
		recordDirs: ['btrfs/quotas'],
		explain: {
			whiteouts: snapshotWhiteouts,
			onCreate:
				"takes a btrfs snapshot of the image's top layer for the init layer, and a snapshot of that for the RW layer (btrfs/subvolumes/<id>)",
		},
	},
	zfs: {
		layersDir: 'zfs/graph',
		layerPath: id => `zfs/graph/${id}`,
		family: 'flattened',
		presence: 'unknown',
		contentNote:
			"zfs layers are ZFS datasets <fsname>/<id> (each layer's dataset is shown); fsname, the daemon's zfs.fsname option or the dataset mounted on the data root, is not recorded in the root, and zfs/graph/<id> are only mount points (removed when a layer is unmounted, empty in a file copy): the layers' files and whether their datasets still exist cannot be known from the root",
		filesUnread: 'zfs keeps layer data in ZFS datasets, not in files of the root',
		derivedRecord: zfsRecord,
		areaDir: 'zfs/graph',
		explain: {
			whiteouts: snapshotWhiteouts,
			onCreate:
				'clones ZFS snapshots for the init and RW layers; the data lives in datasets, so a file copy of the root holds none of it',
		},
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
		filesUnread: 'devicemapper keeps layer data in thin devices, not in files of the root',
		readMeta: readDevicemapperMeta,
		deferredDeletion: true,
		areaDir: 'devicemapper/mnt',
		recordDirs: ['devicemapper/metadata'],
		explain: {
			whiteouts: snapshotWhiteouts,
			onCreate: 'makes thin snapshots of block devices; the data lives in the thin pool, not in files',
		},
	},
	windowsfilter: {
		layersDir: 'windowsfilter',
		layerPath: id => `windowsfilter/${id}`,
		family: 'flattened',
		contentNote:
			'windowsfilter layers (Files/, Hives/, sandbox.vhdx) are Windows container layers; layerlens names them but does not read their content',
		filesUnread: 'windowsfilter layers (Windows containers) are not read',
		ancestry: 'layerchain',
		readMeta: readWindowsLayerChains,
		recordFiles: ['layerchain.json'],
	},
	// The containerd image store's snapshotters (the reference layout notes §6; containerd plugins/snapshots/{overlay,native}):
	// config.v2.json's Driver names the snapshotter; a snapshot's directory is snapshots/<id>, <id> from the
	// snapshotter's metadata.db. overlayfs keeps each snapshot's own changes in fs/ with kernel-overlay whiteouts.
	overlayfs: {
		layersDir: `${snapshotterRoot('overlayfs')}/snapshots`,
		layerPath: id => `${snapshotterRoot('overlayfs')}/snapshots/${id}/fs`,
		family: 'diff',
		containerd: true,
		whiteouts: 'overlay',
		explain: {
			records: id => [
				{
					label: `${snapshotterRoot('overlayfs')}/snapshots/${id}/fs/`,
					text: 'the files this snapshot adds or changes, and its deletion markers',
				},
				{
					label: `${snapshotterRoot('overlayfs')}/snapshots/${id}/work/`,
					text: "scratch space the kernel's overlayfs needs when this snapshot is the upper directory of a mount",
					optional: true,
				},
			],
			whiteouts:
				'a deleted file or directory is a character device 0:0 with the same name; a directory replaced as a whole carries the extended attribute trusted.overlay.opaque=y',
			onCreate: snapshotterCreate('overlayfs'),
		},
	},
	native: {
		layersDir: `${snapshotterRoot('native')}/snapshots`,
		layerPath: id => `${snapshotterRoot('native')}/snapshots/${id}`,
		family: 'flattened',
		containerd: true,
		whiteouts: 'none',
		explain: {
			records: id => [
				{
					label: `${snapshotterRoot('native')}/snapshots/${id}/`,
					text: 'a complete copy of the file system as of this snapshot',
				},
			],
			whiteouts: 'none: each snapshot is a full copy, so a deleted file is simply absent',
			onCreate: snapshotterCreate('native'),
		},
	},
} as const satisfies Record<string, DriverInfo>;

export type DriverName = keyof typeof drivers;

export function isDriverName(name: string): name is DriverName {
	return Object.hasOwn(drivers, name);
}

/** A driver's entry, or undefined for a name the table does not know. */
export function driverInfo(name: string | null | undefined): DriverInfo | undefined {
	return name !== null && name !== undefined && isDriverName(name) ? drivers[name] : undefined;
}
