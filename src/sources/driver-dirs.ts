/**
 * The few storage-driver facts a source needs, as plain lists. Every driver fact lives in one table
 * (read/drivers/table.ts), but sources rank below the readers and cannot import it; these lists are
 * what the table says, and test/layouts-drivers.ts fails when they drift apart.
 */

/** The graph drivers: each has a top directory `<driver>/` and an image store `image/<driver>/` (the table's entries that are not containerd snapshotters). */
export const graphDrivers: readonly string[] = [
	'overlay2',
	'overlay',
	'fuse-overlayfs',
	'vfs',
	'aufs',
	'btrfs',
	'zfs',
	'devicemapper',
	'windowsfilter',
];

/** Directories below the drivers' top directories whose entries come and go with layers (a live root's signature stats them). */
export const driverLayerDirs: readonly string[] = [
	'vfs/dir',
	'aufs/diff',
	'aufs/layers',
	'btrfs/subvolumes',
	'overlay2/l',
];

/** Directories of records a driver keeps for every layer (the table's `recordDirs`): an archive caches their files. */
export const driverRecordDirs: ReadonlySet<string> = new Set(['aufs/layers', 'devicemapper/metadata', 'btrfs/quotas']);

/** Names of the record files in a layer's directory `<driver>/<id>/` (the table's `recordFiles`): an archive caches them. */
export const driverRecordFiles: ReadonlySet<string> = new Set(['lower', 'link', 'lower-id', 'layerchain.json']);
