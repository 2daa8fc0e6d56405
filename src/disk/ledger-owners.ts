import type {Finding} from '../finding.ts';
import {drivers, isDriverName} from '../read/drivers/registry.ts';
import type {Container, Layer, Model} from '../model/types.ts';

/** The categories of the ledger: stable words, documented in the README (fields may be added, never renamed). */
export const ledgerKinds = [
	'image-layer',
	'container-rw',
	'container-init',
	'container-logs',
	'container-files',
	'volume',
	'build-cache',
	'containerd-content',
	'containerd-snapshot',
	'orphan',
	'daemon',
	'other',
] as const;
export type LedgerKind = (typeof ledgerKinds)[number];

/**
 * Who owns the bytes at and below a path. `ref` names the object (a layer's chain id, a
 * container's id, a volume's name, a path for orphans and others). `content` marks the part that
 * the daemon's own figure counts (a layer's diff/, a volume's _data/); `diffAgainst` (vfs) the
 * init layer's directory a RW layer is diffed against, as the daemon's naive diff does.
 */
export type Owner = {
	readonly kind: LedgerKind;
	readonly ref: string;
	readonly content?: boolean;
	readonly contentRoot?: string;
	readonly diffAgainst?: string;
	/** The finding that explains an orphan. */
	readonly finding?: Finding;
	/** A container's directory: its children named as logs (isLogName) are that container's logs. */
	readonly logsOf?: string;
};

/** A directory whose children nothing above names: each unnamed child is its own 'other' entry. */
export const eachOther = 'each-other';

export type OwnerMap = Map<string, Owner | typeof eachOther>;

/** The directory of a layer (all its parts: overlay2's diff/, link, lower, work/), by cache id; aufs has three. */
function layerDirs(driver: string, cacheId: string): string[] {
	if (driver === 'aufs') return ['diff', 'layers', 'mnt'].map(sub => `aufs/${sub}/${cacheId}`);
	if (!isDriverName(driver) || driver === 'devicemapper') return [];
	return [`${drivers[driver].layersDir}/${cacheId}`];
}

function addLayer(map: OwnerMap, l: Layer): void {
	const owner: Owner = {kind: 'image-layer', ref: l.chainId};
	if (l.cacheId !== null) for (const dir of layerDirs(l.driver, l.cacheId)) if (!map.has(dir)) map.set(dir, owner);
	if (l.path !== null) map.set(l.path, {...owner, content: true, contentRoot: l.path});
	map.set(`image/${l.driver}/layerdb/sha256/${l.chainId.replace(/^sha256:/, '')}`, owner);
}

/** A container's log files: json-file's `<id>-json.log` and its rotations, the local driver's `local-logs/`. */
export function isLogName(containerId: string, name: string): boolean {
	return name === 'local-logs' || name.startsWith(`${containerId}-json.log`);
}

function addContainer(map: OwnerMap, c: Container, driver: string): void {
	map.set(c.path, {kind: 'container-files', ref: c.id, logsOf: c.id});
	map.set(`image/${driver}/layerdb/mounts/${c.id}`, {kind: 'container-files', ref: c.id});
	const rw = c.chain.find(e => e.role === 'rw');
	const init = c.chain.find(e => e.role === 'init');
	const flattened = isDriverName(driver) && drivers[driver].family === 'flattened';
	for (const e of [rw, init]) {
		if (e === undefined || e.cacheId === null) continue;
		const kind = e.role === 'rw' ? 'container-rw' : 'container-init';
		for (const dir of layerDirs(driver, e.cacheId)) map.set(dir, {kind, ref: c.id});
		if (e.path === null) continue;
		const diffAgainst = e.role === 'rw' && flattened && init?.path != null ? init.path : undefined;
		map.set(e.path, {
			kind,
			ref: c.id,
			content: true,
			contentRoot: e.path,
			...(diffAgainst !== undefined ? {diffAgainst} : {}),
		});
	}
}

/**
 * The owners of a root's paths, from the model and the check findings that name orphans and
 * leftovers: exact paths to owners; a path below one is owned by the nearest path above it
 * that is named.
 */
export function buildOwners(model: Model, orphanFindings: readonly Finding[]): OwnerMap {
	const map: OwnerMap = new Map();
	map.set('', eachOther);
	const daemon: Owner = {kind: 'daemon', ref: ''};
	for (const top of ['image', 'network', 'swarm', 'trust', 'plugins', 'runtimes', 'engine-id', 'containerd'])
		map.set(top, daemon);
	map.set('containers', eachOther);
	map.set('volumes', eachOther);
	map.set('volumes/metadata.db', daemon);
	// The local volume driver's probe of the backing file system (a block device node).
	map.set('volumes/backingFsBlockDev', daemon);
	map.set('buildkit', {kind: 'build-cache', ref: 'buildkit'});
	const c8d = 'containerd/daemon';
	map.set(`${c8d}/io.containerd.content.v1.content`, {kind: 'containerd-content', ref: ''});
	for (const d of model.drivers) {
		if (!isDriverName(d)) continue;
		const dir = drivers[d].layersDir;
		if (dir.startsWith(`${c8d}/`)) map.set(dir, {kind: 'containerd-snapshot', ref: ''});
		else {
			const top = dir.split('/')[0]!;
			if (!map.has(top)) map.set(top, eachOther);
			map.set(dir, eachOther);
			// The driver's probe of its backing file system (a block device node; vfs, btrfs, zfs).
			map.set(`${top}/backingFsBlockDev`, daemon);
		}
		if (d === 'overlay2' || d === 'fuse-overlayfs') map.set(`${d}/l`, daemon);
	}
	for (const f of orphanFindings) {
		if (f.path === undefined) continue;
		// BuildKit's snapshots in a driver's directory are its build cache (check names them so).
		if (f.code === 'cache.buildkit-snapshot') map.set(f.path, {kind: 'build-cache', ref: f.path});
		else map.set(f.path, {kind: 'orphan', ref: f.path, finding: f});
	}
	for (const l of model.layers) addLayer(map, l);
	for (const c of model.containers) addContainer(map, c, c.driver ?? model.drivers[0] ?? '');
	for (const v of model.volumes ?? []) {
		if (v.path === null) continue;
		map.set(v.path, {kind: 'volume', ref: v.name});
		if (v.dataPath !== null) map.set(v.dataPath, {kind: 'volume', ref: v.name, content: true, contentRoot: v.dataPath});
	}
	return map;
}
