import type {Container, Image, Layer, Model} from './types.ts';

/**
 * The model's lookups by id, chain id, cache id and name, built once per model in link() (and, for a
 * model made elsewhere, on first use) instead of each consumer building maps or scanning arrays.
 * Where a key may name several objects (an image id under two drivers, a name given twice in
 * damaged configs), the lists keep the model's order, and the single lookups give the first, as
 * `Array.find` would. Not part of the model's JSON: held beside it, keyed by its arrays, so a copy
 * of the model that keeps its arrays (`{...model, findings}`) keeps its indexes.
 */
export type ModelIndexes = {
	readonly containerById: ReadonlyMap<string, Container>;
	readonly containersByName: ReadonlyMap<string, readonly Container[]>;
	/** `${driver}\0${id}` */
	readonly imageByKey: ReadonlyMap<string, Image>;
	readonly imagesById: ReadonlyMap<string, readonly Image[]>;
	readonly imagesByTag: ReadonlyMap<string, readonly Image[]>;
	/** Digest references (repo@sha256:…). */
	readonly imagesByDigest: ReadonlyMap<string, readonly Image[]>;
	/** `${driver}\0${chainId}` */
	readonly layerByKey: ReadonlyMap<string, Layer>;
	readonly layersByChainId: ReadonlyMap<string, readonly Layer[]>;
	readonly layersByCacheId: ReadonlyMap<string, readonly Layer[]>;
};

type Parts = Pick<Model, 'containers' | 'images' | 'layers'>;

const built = new WeakMap<
	readonly Container[],
	{readonly images: readonly Image[]; readonly layers: readonly Layer[]; readonly indexes: ModelIndexes}
>();

/** The key under which an object of a driver is indexed. */
export const driverKey = (driver: string | null, id: string): string => `${driver ?? ''}\0${id}`;

function first<T>(m: Map<string, T>, key: string, value: T): void {
	if (!m.has(key)) m.set(key, value);
}

function add<T>(m: Map<string, T[]>, key: string, value: T): void {
	const list = m.get(key);
	if (list === undefined) m.set(key, [value]);
	else list.push(value);
}

function build(model: Parts): ModelIndexes {
	const containerById = new Map<string, Container>();
	const containersByName = new Map<string, Container[]>();
	for (const c of model.containers) {
		first(containerById, c.id, c);
		if (c.name !== null) add(containersByName, c.name, c);
	}
	const imageByKey = new Map<string, Image>();
	const imagesById = new Map<string, Image[]>();
	const imagesByTag = new Map<string, Image[]>();
	const imagesByDigest = new Map<string, Image[]>();
	for (const i of model.images) {
		first(imageByKey, driverKey(i.driver, i.id), i);
		add(imagesById, i.id, i);
		for (const t of new Set(i.tags)) add(imagesByTag, t, i);
		for (const d of new Set(i.digests)) add(imagesByDigest, d, i);
	}
	const layerByKey = new Map<string, Layer>();
	const layersByChainId = new Map<string, Layer[]>();
	const layersByCacheId = new Map<string, Layer[]>();
	for (const l of model.layers) {
		first(layerByKey, driverKey(l.driver, l.chainId), l);
		add(layersByChainId, l.chainId, l);
		if (l.cacheId !== null) add(layersByCacheId, l.cacheId, l);
	}
	return {
		containerById,
		containersByName,
		imageByKey,
		imagesById,
		imagesByTag,
		imagesByDigest,
		layerByKey,
		layersByChainId,
		layersByCacheId,
	};
}

/** The indexes of a model: built on the first call for its arrays, then the same object. */
export function indexesOf(model: Parts): ModelIndexes {
	const had = built.get(model.containers);
	if (had !== undefined && had.images === model.images && had.layers === model.layers) return had.indexes;
	const indexes = build(model);
	built.set(model.containers, {images: model.images, layers: model.layers, indexes});
	return indexes;
}

/** The container with this full id. */
export function containerById(model: Parts, id: string): Container | undefined {
	return indexesOf(model).containerById.get(id);
}

/** The image with this id: of this driver, or (driver null) the first of any driver. */
export function imageById(model: Parts, id: string | null, driver: string | null): Image | undefined {
	if (id === null) return undefined;
	const ix = indexesOf(model);
	return driver === null ? ix.imagesById.get(id)?.[0] : ix.imageByKey.get(driverKey(driver, id));
}

/** The layer with this chain id in this driver's store. */
export function layerByChainId(model: Parts, chainId: string, driver: string): Layer | undefined {
	return indexesOf(model).layerByKey.get(driverKey(driver, chainId));
}
