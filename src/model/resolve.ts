import {indexesOf} from './indexes.ts';
import type {Container, Image, Layer, Model, Network, Volume} from './types.ts';

/** How a REF named a container through one of its own layers: its RW or init layer's cache id (or a prefix of the RW one), the `-init` name, or an `l/` short name. */
export type ContainerLayerRef = {
	readonly role: 'rw' | 'init';
	readonly cacheId: string;
	readonly by: 'cache-id' | 'prefix' | 'short-name';
};

export type Resolved =
	| {readonly kind: 'container'; readonly container: Container; readonly via?: ContainerLayerRef}
	| {readonly kind: 'image'; readonly image: Image}
	| {readonly kind: 'layer'; readonly layer: Layer};

export type ResolveResult =
	| {readonly ok: true; readonly value: Resolved}
	| {readonly ok: false; readonly error: string};

const hexPrefix = /^(sha256:)?[0-9a-f]{4,64}$/;

/** What resolving may read beyond the model: a layer directory's `l/` short name (`<driver>/<cache id>/link`), read only when nothing else matched. */
export type ResolveOptions = {
	readonly shortName?: (driver: string, cacheId: string) => string | undefined;
	/** Whether a container's own layer names may name it (default true; resolveAnyRef tries volume and network names first). */
	readonly layerNames?: boolean;
};

/**
 * Finds what a REF names, in docker's order: a full id, a container name, an image tag
 * (repo:tag, or repo meaning repo:latest), a digest reference, then a unique id prefix of at
 * least 4 hex characters over container ids, image ids, layer chain ids and cache ids. Failing
 * all of those, a container's own layer names it: its RW or init layer's cache id, `<mount id>-init`,
 * an `l/` short name (overlay2, fuse-overlayfs: read through opts.shortName), or a unique prefix of the
 * RW layer's cache id; the result says which (`via`).
 */
export function resolveRef(model: Model, ref: string, opts: ResolveOptions = {}): ResolveResult {
	const bare = ref.replace(/^sha256:/, '');
	const hits = new Map<string, Resolved>();
	const add = (key: string, r: Resolved) => hits.set(key, r);
	// Exact matches first: ids, names, tags (from the model's indexes).
	const ix = indexesOf(model);
	const none: readonly never[] = [];
	const byId = ix.containerById.get(bare);
	for (const c of [
		...(byId === undefined ? none : [byId]),
		...(ix.containersByName.get(ref) ?? none),
		...(ref.startsWith('/') ? (ix.containersByName.get(ref.slice(1)) ?? none) : none),
	])
		add(`c:${c.id}`, {kind: 'container', container: c});
	const images = [
		ix.imagesById.get(`sha256:${bare}`),
		ix.imagesById.get(bare),
		ix.imagesByTag.get(ref),
		ref.includes(':') ? undefined : ix.imagesByTag.get(`${ref}:latest`),
		ix.imagesByDigest.get(ref),
	];
	for (const list of images) for (const i of list ?? none) add(`i:${i.driver}:${i.id}`, {kind: 'image', image: i});
	for (const list of [
		ix.layersByChainId.get(`sha256:${bare}`),
		ix.layersByChainId.get(bare),
		ix.layersByCacheId.get(ref),
	])
		for (const l of list ?? none) add(`l:${l.driver}:${l.chainId}`, {kind: 'layer', layer: l});
	if (hits.size === 0 && hexPrefix.test(ref)) {
		for (const c of model.containers) if (c.id.startsWith(bare)) add(`c:${c.id}`, {kind: 'container', container: c});
		for (const i of model.images)
			if (i.id.startsWith(`sha256:${bare}`) || i.id.startsWith(bare))
				add(`i:${i.driver}:${i.id}`, {kind: 'image', image: i});
		for (const l of model.layers) {
			if (l.chainId.startsWith(`sha256:${bare}`) || l.chainId.startsWith(bare) || l.cacheId?.startsWith(bare))
				add(`l:${l.driver}:${l.chainId}`, {kind: 'layer', layer: l});
		}
	}
	// Pre-1.10 (layout v1) an image and its own layer share one bare id: the id names the image, as in docker.
	for (const r of [...hits.values()]) if (r.kind === 'image') hits.delete(`l:${r.image.driver}:${r.image.id}`);
	// Docker knows no such names: only when nothing above matched, a container's own layers (and short names).
	if (hits.size === 0 && opts.layerNames !== false) for (const [key, r] of layerNameHits(model, ref, opts)) add(key, r);
	if (hits.size === 1) return {ok: true, value: [...hits.values()][0]!};
	if (hits.size === 0) {
		const why = /^[0-9a-f]{1,3}$/.test(bare) ? ' (an id prefix needs at least 4 characters)' : '';
		return {ok: false, error: `no container, image or layer matches "${ref}"${why}`};
	}
	return {ok: false, error: `"${ref}" is ambiguous: it matches ${hits.size} objects; give more of the id`};
}

/** `l/abc`, `overlay2/l/abc` or `abc`: the short name asked for. */
function shortNameOf(ref: string): string {
	return ref.replace(/^(?:[a-z0-9-]+\/)?l\//, '');
}

/**
 * The containers whose RW or init layer a REF names: the cache id, the `-init` name, an `l/` short
 * name (also image layers', as layers), then a unique prefix (at least 4 characters) of a RW layer's
 * cache id. Exact names first: a prefix is tried only when no name matched exactly.
 */
function layerNameHits(model: Model, ref: string, opts: ResolveOptions): Map<string, Resolved> {
	const hits = new Map<string, Resolved>();
	const put = (c: Container, role: 'rw' | 'init', cacheId: string, by: ContainerLayerRef['by']) =>
		hits.set(`c:${c.id}`, {kind: 'container', container: c, via: {role, cacheId, by}});
	for (const c of model.containers) {
		if (c.mountId !== null && c.mountId === ref) put(c, 'rw', c.mountId, 'cache-id');
		else if (c.initId !== null && c.initId === ref) put(c, 'init', c.initId, 'cache-id');
		else if (c.mountId !== null && ref === `${c.mountId}-init`) put(c, 'init', ref, 'cache-id');
	}
	if (hits.size > 0) return hits;
	const short = shortNameOf(ref);
	const nameOf = opts.shortName;
	if (nameOf !== undefined && /^[A-Z0-9]{8,64}$/.test(short)) {
		for (const c of model.containers) {
			if (c.driver === null) continue;
			if (c.mountId !== null && nameOf(c.driver, c.mountId) === short) put(c, 'rw', c.mountId, 'short-name');
			else if (c.initId !== null && nameOf(c.driver, c.initId) === short) put(c, 'init', c.initId, 'short-name');
		}
		for (const l of model.layers)
			if (l.cacheId !== null && nameOf(l.driver, l.cacheId) === short)
				hits.set(`l:${l.driver}:${l.chainId}`, {kind: 'layer', layer: l});
		if (hits.size > 0) return hits;
	}
	if (ref.length >= 4 && !ref.endsWith('-init'))
		for (const c of model.containers) if (c.mountId?.startsWith(ref)) put(c, 'rw', c.mountId, 'prefix');
	return hits;
}

export type ResolvedAny =
	| Resolved
	| {readonly kind: 'volume'; readonly volume: Volume}
	| {readonly kind: 'network'; readonly network: Network};

export type ResolveAnyResult =
	| {readonly ok: true; readonly value: ResolvedAny}
	| {readonly ok: false; readonly error: string};

/**
 * resolveRef without a container's layer names, then, when nothing else matches, a volume name or
 * a network name or full id (docker volume inspect / docker network inspect take those), then a
 * container's layer names.
 */
export function resolveAnyRef(model: Model, ref: string, opts: ResolveOptions = {}): ResolveAnyResult {
	const r = resolveRef(model, ref, {...opts, layerNames: false});
	if (r.ok) return r;
	const vol = (model.volumes ?? []).find(v => v.name === ref);
	const nets = (model.networks ?? []).filter(n => n.name === ref || n.id === ref);
	if (vol !== undefined && nets.length === 0) return {ok: true, value: {kind: 'volume', volume: vol}};
	if (vol === undefined && nets.length === 1) return {ok: true, value: {kind: 'network', network: nets[0]!}};
	if (vol !== undefined || nets.length > 1)
		return {
			ok: false,
			error: `"${ref}" is ambiguous: it names ${nets.length + (vol !== undefined ? 1 : 0)} volumes and networks`,
		};
	// Last, as in resolveRef: a container's own layer names (only when no Docker name matched, so no volume or network name changes meaning).
	if (opts.layerNames !== false && r.error.startsWith('no container')) {
		const byLayer = resolveRef(model, ref, opts);
		if (byLayer.ok || !byLayer.error.startsWith('no container')) return byLayer;
	}
	return {
		ok: false,
		error: r.error.replace('no container, image or layer', 'no container, image, layer, volume or network'),
	};
}
