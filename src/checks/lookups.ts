import type {Layer, Model} from '../model/types.ts';
import {
	type DriverFile,
	type LinkTable,
	hasCommittedMarker,
	readDriverFile,
	readLinkTable,
} from '../read/drivers/records.ts';
import type {RawHost} from '../read/host.ts';
import type {RawImageStore, RawLayer} from '../read/image-store.ts';
import type {Source} from '../sources/source.ts';
import {layerByChainId} from '../model/indexes.ts';

/** The deepest layer chain followed through `parent` files (Docker's overlay2 limit is 128). */
const maxChain = 256;

export type ChainWalk = {
	/** Cache ids, nearest first. */
	readonly cacheIds: string[];
	/** Chain ids, in the same order. */
	readonly chainIds: string[];
	/** False when a layer, its cache id, or its parent is missing, or the walk looped. */
	readonly complete: boolean;
};

/** Lookups the checks share, computed on first use. */
export type Index = {
	store(driver: string): RawImageStore | undefined;
	rawLayer(driver: string, chainId: string): RawLayer | undefined;
	layer(driver: string, chainId: string): Layer | undefined;
	/** A chain from `top` down through layerdb `parent` files. */
	chain(driver: string, top: string | undefined): ChainWalk;
	/** `<driver>/<id>/link` or `lower`, read once. */
	overlay(driver: string, id: string, name: 'link' | 'lower', subject: string): DriverFile;
	/** `<driver>/<id>/committed` exists (checked once). */
	committed(driver: string, id: string): boolean;
	/** The directory `<driver>/<id>` (or aufs/diff/<id>, …) exists. */
	hasDir(driver: string, id: string): boolean;
	/** `<driver>/l/`, read once. */
	links(driver: string): LinkTable;
	/** Ids of containers/ directories. */
	readonly containerIds: ReadonlySet<string>;
	/** Driver directory names something refers to (layer cache ids, mount ids, init ids), with who refers to them. */
	referenced(driver: string): ReadonlyMap<string, string>;
	/** How many directories layerdb says are built directly on each directory (by cache id). */
	children(driver: string): ReadonlyMap<string, number>;
};

/** A chain from `top` down through layerdb `parent` files, stopped by a missing layer or cache id, a loop, or maxChain. */
function walkChain(store: RawImageStore | undefined, top: string | undefined): ChainWalk {
	const cacheIds: string[] = [];
	const chainIds: string[] = [];
	let id = top;
	while (id !== undefined) {
		if (chainIds.includes(id) || chainIds.length >= maxChain) return {cacheIds, chainIds, complete: false};
		const l = store?.layers.get(id);
		if (l?.cacheId === undefined) return {cacheIds, chainIds, complete: false};
		cacheIds.push(l.cacheId);
		chainIds.push(id);
		id = l.parent;
	}
	return {cacheIds, chainIds, complete: true};
}

/** Driver directory names a store refers to (layer cache ids, mount ids, init ids), with who refers to them. */
function referencedBy(store: RawImageStore | undefined): Map<string, string> {
	const m = new Map<string, string>();
	for (const l of store?.layers.values() ?? []) if (l.cacheId !== undefined) m.set(l.cacheId, `layer:${l.chainId}`);
	for (const mount of store?.mounts.values() ?? []) {
		if (mount.mountId !== undefined) m.set(mount.mountId, `container:${mount.containerId}`);
		if (mount.initId !== undefined) m.set(mount.initId, `container:${mount.containerId}`);
	}
	return m;
}

/** How many directories layerdb says are built directly on each directory of a store (by cache id). */
function childCounts(store: RawImageStore | undefined): Map<string, number> {
	const m = new Map<string, number>();
	const add = (id: string | undefined): void => {
		if (id !== undefined) m.set(id, (m.get(id) ?? 0) + 1);
	};
	for (const l of store?.layers.values() ?? []) {
		if (l.parent !== undefined) add(store?.layers.get(l.parent)?.cacheId);
	}
	for (const mount of store?.mounts.values() ?? []) {
		const top = mount.parent === undefined ? undefined : store?.layers.get(mount.parent)?.cacheId;
		if (mount.initId !== undefined) {
			add(top);
			if (mount.mountId !== undefined) add(mount.initId);
		} else if (mount.mountId !== undefined) add(top);
	}
	return m;
}

/** The value under key, made (once) by make. */
function once<V>(cache: Map<string, V>, key: string, make: () => V): V {
	let v = cache.get(key);
	if (v === undefined) cache.set(key, (v = make()));
	return v;
}

export function buildIndex(source: Source, raw: RawHost, model: Model): Index {
	const overlays = new Map<string, DriverFile>();
	const linkTables = new Map<string, LinkTable>();
	const markers = new Map<string, boolean>();
	const refs = new Map<string, Map<string, string>>();
	const kids = new Map<string, Map<string, number>>();
	const containerIds = new Set(raw.containers.map(c => c.id));
	return {
		store: driver => raw.stores.get(driver),
		rawLayer: (driver, chainId) => raw.stores.get(driver)?.layers.get(chainId),
		layer: (driver, chainId) => layerByChainId(model, chainId, driver),
		chain: (driver, top) => walkChain(raw.stores.get(driver), top),
		overlay: (driver, id, name, subject) =>
			once(overlays, `${driver}\0${id}\0${name}`, () => readDriverFile(source, driver, id, name, subject)),
		committed: (driver, id) => once(markers, `${driver}\0${id}`, () => hasCommittedMarker(source, driver, id)),
		hasDir: (driver, id) => raw.driverDirs.get(driver)?.layerIds.has(id) ?? false,
		links: driver => once(linkTables, driver, () => readLinkTable(source, driver)),
		containerIds,
		referenced: driver => once(refs, driver, () => referencedBy(raw.stores.get(driver))),
		children: driver => once(kids, driver, () => childCounts(raw.stores.get(driver))),
	};
}
