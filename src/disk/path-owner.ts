/**
 * Who owns a path under the root: a layer, a container (its RW or init layer, config, log or other
 * files), an image's config, a volume, a BuildKit build cache record, containerd's content or
 * snapshots, the daemon's own files, or an orphan (with the check's finding that explains it).
 *
 * One prefix map is built once from the model, the readers' records and the orphan checks' findings:
 * each key is an area's path relative to the root (a layer directory, `containers/<id>`, …). A path's
 * owner is that of its longest area prefix, found by walking up its components (a few map lookups per
 * path, no scan of the root and none of the model).
 */
import type {Finding} from '../finding.ts';
import {runFastChecks} from '../checks/index.ts';
import {imageById} from '../model/indexes.ts';
import type {Container, Layer, Model} from '../model/types.ts';
import {shortNameReader} from '../read/drivers/records.ts';
import {type DriverInfo, driverInfo, drivers, isDriverName} from '../read/drivers/registry.ts';
import type {RawHost} from '../read/host.ts';
import type {Source} from '../sources/source.ts';

export type OwnerKind =
	| 'layer'
	| 'container'
	| 'image'
	| 'volume'
	| 'build-cache'
	| 'containerd-content'
	| 'containerd-snapshot'
	| 'orphan'
	| 'daemon'
	| 'other';

/** What part of its owner a path is. */
export type OwnerRole =
	// a container's
	| 'rw'
	| 'init'
	| 'config'
	| 'log'
	| 'files'
	| 'mount-record'
	// a layer's (or a container's layer's)
	| 'layer-dir'
	| 'layer-record'
	| 'short-link'
	// an image's
	| 'image-config'
	| 'image-metadata'
	| 'image-manifest'
	// a volume's
	| 'volume-data'
	| 'volume-files'
	// anything else
	| 'database'
	| 'store'
	| 'snapshot'
	| 'blob'
	| 'area';

export type Owner = {
	readonly kind: OwnerKind;
	readonly role: OwnerRole;
	/** The area that decided, relative to the root ('' for the root itself). */
	readonly area: string;
	/** One line: what the area is. */
	readonly what: string;
	readonly driver?: string;
	readonly cacheId?: string;
	readonly chainId?: string;
	/** A layer's users, or an image's or a container's image. */
	readonly images?: readonly string[];
	readonly containers?: ReadonlyArray<{readonly id: string; readonly name: string | null}>;
	readonly containerId?: string;
	readonly containerName?: string | null;
	readonly imageId?: string;
	readonly tags?: readonly string[];
	readonly volume?: string;
	/** A build cache record's id; null: a BuildKit snapshot directory whose record is not in the databases read. */
	readonly record?: string | null;
	/** The finding that explains an orphan or leftover. */
	readonly finding?: Finding;
};

export type OwnerMap = {
	/** The owner of a path relative to the root ('' is the root). */
	ownerOf(rel: string): Owner;
	/** How many areas the map holds. */
	readonly size: number;
};

/** BuildKit's record and snapshot ids (moby/buildkit identity.NewID: 25 base-36 characters). */
export const buildkitId = /^[0-9a-z]{25}$/;

/** The entries a layer of a driver has under the root, by its cache id. */
export function layerAreas(driver: string, id: string): string[] {
	if (driver === 'aufs') return [`aufs/diff/${id}`, `aufs/layers/${id}`, `aufs/mnt/${id}`];
	if (driver === 'devicemapper') return [`devicemapper/metadata/${id}`, `devicemapper/mnt/${id}`];
	if (isDriverName(driver)) return [`${drivers[driver].layersDir}/${id}`];
	return [`${driver}/${id}`];
}

/** Daemon-owned areas that hold no object of their own. */
const daemonAreas: ReadonlyArray<readonly [string, OwnerKind, OwnerRole, string]> = [
	['', 'daemon', 'area', "the daemon's data root"],
	['containers', 'daemon', 'area', 'the containers directory (one directory per container)'],
	['image', 'daemon', 'area', 'the image and layer stores (one per storage driver)'],
	['volumes', 'daemon', 'area', 'the volumes directory'],
	['volumes/metadata.db', 'daemon', 'database', "the volume store's database (names, drivers, labels, options)"],
	['network', 'daemon', 'database', "the network library's store (local-kv.db): networks, endpoints"],
	[
		'buildkit',
		'build-cache',
		'store',
		"BuildKit's cache metadata and state (docker builder prune frees what it records)",
	],
	['containerd', 'daemon', 'store', 'the state of the containerd that dockerd runs'],
	[
		'containerd/daemon/io.containerd.content.v1.content',
		'containerd-content',
		'store',
		"containerd's content store (blobs: manifests, configs, compressed layers)",
	],
	[
		'containerd/daemon/io.containerd.metadata.v1.bolt',
		'daemon',
		'database',
		"containerd's metadata database (images, leases, snapshot keys)",
	],
	['plugins', 'daemon', 'area', 'managed plugins'],
	['swarm', 'daemon', 'area', 'swarm mode state'],
	['trust', 'daemon', 'area', 'content trust keys'],
	['runtimes', 'daemon', 'area', 'wrapper scripts for runtimes with arguments'],
	['engine-id', 'daemon', 'area', "the daemon's id"],
	['tmp', 'daemon', 'area', "the daemon's scratch space (emptied at each start)"],
	['tmp-old', 'daemon', 'area', "the daemon's previous scratch space (removed at start)"],
];

type Put = (area: string, owner: Omit<Owner, 'area'>) => void;

function putDaemon(model: Model, raw: RawHost, put: Put): void {
	for (const [area, kind, role, what] of daemonAreas) put(area, {kind, role, what});
	for (const driver of new Set([...raw.stores.keys(), ...raw.driverDirs.keys(), ...model.drivers])) {
		if (raw.stores.get(driver)?.layout !== 'containerd') {
			const base = `image/${driver}`;
			put(base, {kind: 'daemon', role: 'store', what: `the ${driver} image and layer store`, driver});
			put(`${base}/repositories.json`, {
				kind: 'daemon',
				role: 'database',
				what: 'tags and digests pointing to image ids',
				driver,
			});
			put(`${base}/distribution`, {
				kind: 'daemon',
				role: 'database',
				what: 'links between registry blobs and local layers (pull and push)',
				driver,
			});
			put(`${base}/layerdb/tmp`, {kind: 'daemon', role: 'area', what: 'layer writes in progress', driver});
		}
		const info: DriverInfo | undefined = isDriverName(driver) ? drivers[driver] : undefined;
		const what = `the ${driver} storage driver's layer directories`;
		if (info?.containerd !== true)
			put(driver, {kind: 'daemon', role: 'store', what: `the ${driver} storage driver's directory`, driver});
		put(info?.layersDir ?? driver, {kind: 'daemon', role: 'store', what, driver});
		if (driver === 'aufs')
			for (const sub of ['aufs/layers', 'aufs/mnt']) put(sub, {kind: 'daemon', role: 'store', what, driver});
		if (driverInfo(driver)?.shortLinks === true)
			put(`${driver}/l`, {
				kind: 'daemon',
				role: 'area',
				what: `short names of ${driver} layer directories (symlinks to ../<cache id>/diff)`,
				driver,
			});
	}
	for (const db of model.buildCache?.databases ?? [])
		put(db, {kind: 'build-cache', role: 'database', what: "BuildKit's build cache records"});
}

const users = (model: Model, ids: readonly string[]) => {
	const set = new Set(ids);
	return model.containers.filter(c => set.has(c.id)).map(c => ({id: c.id, name: c.name}));
};

function putLayer(model: Model, l: Layer, put: Put, short: (driver: string, id: string) => string | undefined): void {
	const base = {
		kind: 'layer',
		driver: l.driver,
		chainId: l.chainId,
		images: l.images,
		containers: users(model, l.containers),
	} as const;
	const cache = l.cacheId === null ? {} : {cacheId: l.cacheId};
	// A graph driver's layerdb keeps one directory per layer; the containerd store's records are rows of one shared database.
	if (l.metaPath.startsWith(`image/${l.driver}/layerdb/`))
		put(l.metaPath, {...base, ...cache, role: 'layer-record', what: "an image layer's record in the layer store"});
	if (l.cacheId === null) return;
	for (const area of layerAreas(l.driver, l.cacheId))
		put(area, {...base, ...cache, role: 'layer-dir', what: `an image layer's directory in ${l.driver}`});
	const s = short(l.driver, l.cacheId);
	if (s !== undefined)
		put(`${l.driver}/l/${s}`, {
			...base,
			...cache,
			role: 'short-link',
			what: `the short name of an image layer's directory`,
		});
}

function putContainer(
	_model: Model,
	raw: RawHost,
	c: Container,
	put: Put,
	short: (driver: string, id: string) => string | undefined,
): void {
	const base = {
		kind: 'container',
		containerId: c.id,
		containerName: c.name,
		...(c.imageId === null ? {} : {imageId: c.imageId}),
		...(c.driver === null ? {} : {driver: c.driver}),
	} as const;
	put(c.path, {...base, role: 'files', what: "the container's own directory"});
	if (c.driver !== null && raw.stores.get(c.driver)?.layout !== 'containerd')
		put(`image/${c.driver}/layerdb/mounts/${c.id}`, {
			...base,
			role: 'mount-record',
			what: "the container's record in the layer store (its RW and init layers' cache ids)",
		});
	for (const e of c.chain) {
		if (e.role === 'image' || e.cacheId === null || c.driver === null) continue;
		const role = e.role;
		const what = role === 'rw' ? "the container's RW layer" : "the container's init layer";
		for (const area of layerAreas(c.driver, e.cacheId)) put(area, {...base, role, cacheId: e.cacheId, what});
		if (e.path !== null && !layerAreas(c.driver, e.cacheId).some(a => e.path === a || e.path!.startsWith(`${a}/`)))
			put(e.path, {...base, role, cacheId: e.cacheId, what});
		const s = short(c.driver, e.cacheId);
		if (s !== undefined)
			put(`${c.driver}/l/${s}`, {
				...base,
				role: 'short-link',
				cacheId: e.cacheId,
				what: `the short name of the container's ${role === 'rw' ? 'RW' : 'init'} layer directory`,
			});
	}
}

const containerFileWhat: Partial<Record<OwnerRole, string>> = {
	config: "the container's config (docker create wrote it; the daemon rewrites it)",
	log: "the container's log (json-file with its rotations, or the local driver's)",
	files: "a file of the container's own directory (hostname, hosts, resolv.conf, mounts, checkpoints)",
};

/** The role of a path inside a container's directory: its configs, its logs (json-file with rotations, local), or other files. */
export function containerFileRole(id: string, within: string): OwnerRole {
	const name = within.split('/')[0] ?? '';
	if (name === 'config.v2.json' || name === 'hostconfig.json' || name === 'config.json') return 'config';
	if (name === `${id}-json.log` || name.startsWith(`${id}-json.log.`) || name === 'local-logs') return 'log';
	return 'files';
}

function putImagesAndVolumes(model: Model, raw: RawHost, put: Put): void {
	for (const i of model.images) {
		const base = {
			kind: 'image',
			imageId: i.id,
			tags: i.tags,
			driver: i.driver,
			containers: users(model, i.containers),
		} as const;
		put(i.path, {...base, role: 'image-config', what: "an image's config (its sha256 is the image id)"});
		const hex = i.id.replace(/^sha256:/, '');
		if (i.path.startsWith(`image/${i.driver}/imagedb/content/`))
			put(`image/${i.driver}/imagedb/metadata/sha256/${hex}`, {
				...base,
				role: 'image-metadata',
				what: "an image's local metadata (parent, last updated)",
			});
	}
	// The containerd store: an image's index, manifest and config blobs, as its reader found them.
	for (const store of raw.stores.values()) {
		if (store.layout !== 'containerd') continue;
		for (const r of store.images.values()) {
			const i = imageById(model, r.id, store.driver);
			if (i === undefined) continue;
			const base = {
				kind: 'image',
				imageId: i.id,
				tags: i.tags,
				driver: i.driver,
				containers: users(model, i.containers),
			} as const;
			for (const b of r.blobs ?? [])
				put(b.path, {
					...base,
					role: b.role === 'config' ? 'image-config' : 'image-manifest',
					what:
						b.role === 'config'
							? "an image's config in containerd's content store"
							: `an image's ${b.role} in containerd's content store`,
				});
		}
	}
	for (const v of model.volumes ?? []) {
		const at = v.path ?? `volumes/${v.name}`;
		const containers = v.mounts.map(m => ({id: m.containerId, name: m.containerName}));
		put(at, {
			kind: 'volume',
			role: 'volume-files',
			volume: v.name,
			containers,
			what: `volume ${v.name}${v.inDb ? '' : ' (not in metadata.db)'}`,
		});
		if (v.dataPath !== null)
			put(v.dataPath, {
				kind: 'volume',
				role: 'volume-data',
				volume: v.name,
				containers,
				what: `the data of volume ${v.name}`,
			});
	}
}

/** BuildKit's `<driver>/<25-character id>` snapshot directories that no layer or container refers to: build cache. */
function putBuildCache(model: Model, raw: RawHost, taken: ReadonlySet<string>, put: Put): void {
	const records = new Set((model.buildCache?.records ?? []).map(r => r.id));
	for (const [driver, dir] of raw.driverDirs) {
		if (!isDriverName(driver) || drivers[driver].family !== 'diff' || driver === 'aufs') continue;
		for (const id of dir.layerIds) {
			const area = `${drivers[driver].layersDir}/${id}`;
			if (!buildkitId.test(id) || taken.has(area)) continue;
			const record = records.has(id) ? id : null;
			put(area, {
				kind: 'build-cache',
				role: 'snapshot',
				driver,
				record,
				what: `a BuildKit snapshot directory (build cache${record === null ? '; its record is not in the databases read' : ''}): docker builder prune removes it`,
			});
		}
	}
}

/** The orphan and leftover findings that name a path, and the layers kept for a container that is gone. */
function putOrphans(
	model: Model,
	raw: RawHost,
	findings: readonly Finding[],
	taken: Map<string, Omit<Owner, 'area'>>,
	put: Put,
): void {
	const byPath = new Map<string, Finding>();
	for (const f of findings) {
		if (f.path === undefined || !(f.code.startsWith('orphan.') || f.code.startsWith('leftover.'))) continue;
		if (!byPath.has(f.path)) byPath.set(f.path, f);
	}
	for (const [path, f] of byPath) {
		// BuildKit's directories are build cache, not orphans, whatever an older check calls them.
		if (taken.get(path)?.kind === 'build-cache') continue;
		put(path, {kind: 'orphan', role: 'area', finding: f, what: orphanWhat(f.code)});
	}
	const containerIds = new Set(model.containers.map(c => c.id));
	for (const store of raw.stores.values()) {
		if (store.layout === 'containerd') continue;
		for (const m of store.mounts.values()) {
			if (containerIds.has(m.containerId)) continue;
			const f = byPath.get(m.path);
			if (f === undefined) continue;
			for (const id of [m.mountId, m.initId]) {
				if (id === undefined) continue;
				for (const area of layerAreas(store.driver, id))
					if (!taken.has(area) || taken.get(area)?.kind === 'orphan')
						put(area, {
							kind: 'orphan',
							role: 'area',
							finding: f,
							driver: store.driver,
							cacheId: id,
							what: orphanWhat(f.code),
						});
			}
		}
	}
}

function orphanWhat(code: string): string {
	if (code === 'orphan.mount') return 'the layers of a container Docker no longer knows';
	if (code.startsWith('leftover.')) return 'a leftover of an interrupted operation';
	return 'something nothing refers to';
}

/** The finding-producing checks whose findings say what is orphaned or left over. */
const orphanCheckIds = [
	'store.driver-dirs',
	'store.mounts',
	'store.layerdb',
	'root.tmp',
	'store.snapshot-dirs',
	'store.snapshots',
];

/** Builds the prefix map once: every area the model, the readers and the orphan checks know. */
export function buildOwnerMap(source: Source, raw: RawHost, model: Model): OwnerMap {
	const areas = new Map<string, Omit<Owner, 'area'>>();
	const put: Put = (area, owner) => void areas.set(area, owner);
	const short = shortNameReader(source);
	putDaemon(model, raw, put);
	for (const l of model.layers) putLayer(model, l, put, short);
	putImagesAndVolumes(model, raw, put);
	// Containers after layers: a container's RW layer is never an image layer, but a damaged store could claim both.
	for (const c of model.containers) putContainer(model, raw, c, put, short);
	putBuildCache(model, raw, new Set(areas.keys()), put);
	const report = runFastChecks({source, raw, model}, {only: orphanCheckIds});
	putOrphans(model, raw, report.findings, areas, put);
	return {
		size: areas.size,
		ownerOf(rel) {
			const parts = rel === '' ? [] : rel.split('/');
			for (let n = parts.length; n >= 0; n--) {
				const area = parts.slice(0, n).join('/');
				const hit = areas.get(area);
				if (hit === undefined) continue;
				if (hit.kind === 'container' && hit.role === 'files' && n < parts.length) {
					const role = containerFileRole(hit.containerId!, parts.slice(n).join('/'));
					return {...hit, area, role, what: containerFileWhat[role] ?? hit.what};
				}
				if (n === 0 && parts.length > 0)
					return {kind: 'other', role: 'area', area: parts[0]!, what: 'a top-level entry layerlens does not know'};
				return {...hit, area};
			}
			return {kind: 'other', role: 'area', area: '', what: 'not known'};
		},
	};
}
