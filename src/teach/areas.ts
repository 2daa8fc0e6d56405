/**
 * Which part of a Docker root a path belongs to, and what that part is for: a container's
 * directory, its mount record in the layer store, a layer's record, an image config, a layer's
 * directory in the storage driver, ... Used to group the files that changed between two
 * snapshots (compare, watch) and to explain each.
 */
import type {Model} from '../model/types.ts';
import {
	containerFile,
	driverFacts,
	imageMetadataFiles,
	initPlaceholder,
	layerRecordFile,
	mountFile,
	whyInit,
} from './explain.ts';
import {shortId} from '../model/ids.ts';
import {type DriverInfo, driverInfo} from '../read/drivers/registry.ts';

export type AreaKind =
	| 'container'
	| 'mount'
	| 'layer-record'
	| 'image-config'
	| 'image-metadata'
	| 'tags'
	| 'layer-dir'
	| 'driver-links'
	| 'layerdb-tmp'
	| 'distribution'
	| 'volumes'
	| 'network'
	| 'buildkit'
	| 'containerd'
	| 'tmp'
	| 'other';

export type Place = {
	/** The area's path prefix (a container's directory, a layer's directory, ...). */
	readonly area: string;
	readonly kind: AreaKind;
	/** Container id, chain id hex, image id hex or cache id, as the area names it. */
	readonly id: string | null;
	readonly driver: string | null;
	/** The path inside the area ('' for the area itself). */
	readonly within: string;
};

function rest(parts: readonly string[], from: number): string {
	return parts.slice(from).join('/');
}

/** The place of a path below a graph driver's directory `<driver>/…` (p: its parts, at least two). */
function driverPlace(p: readonly string[], info: DriverInfo): Place {
	const top = p[0]!;
	const make = (area: string, kind: AreaKind, id: string | null, from: number): Place => ({
		area,
		kind,
		id,
		driver: top,
		within: rest(p, from),
	});
	const sub = `${top}/${p[1]}`;
	if (info.shortLinks === true && p[1] === 'l') return make(`${top}/l`, 'driver-links', null, 2);
	// A layer with entries in several directories (aufs: diff/, layers/, mnt/) is one area, `aufs/*/<id>`.
	if (info.entryDirs?.some(e => e.dir === sub) === true && p.length >= 3)
		return {
			area: `${top}/*/${p[2]}`,
			kind: 'layer-dir',
			id: p[2]!,
			driver: top,
			within: rest(p, 1).replace(`${p[1]}/${p[2]}`, p[1]!),
		};
	if (info.areaDir === sub && p.length >= 3) return make(`${sub}/${p[2]}`, 'layer-dir', p[2]!, 3);
	if (info.entryDirs === undefined && info.areaDir === undefined && /^[0-9a-f]{64}(-init)?$/.test(p[1]!))
		return make(`${top}/${p[1]}`, 'layer-dir', p[1]!, 2);
	return make(top, 'other', null, 1);
}

export function placeOf(rel: string): Place {
	const p = rel.split('/');
	const top = p[0]!;
	const make = (area: string, kind: AreaKind, id: string | null, driver: string | null, from: number): Place => ({
		area,
		kind,
		id,
		driver,
		within: rest(p, from),
	});
	if (top === 'containers' && p.length >= 2) return make(`containers/${p[1]}`, 'container', p[1]!, null, 2);
	if (top === 'image' && p.length >= 2) {
		const drv = p[1]!;
		const base = `image/${drv}`;
		if (p[2] === 'layerdb') {
			if (p[3] === 'mounts' && p.length >= 5) return make(`${base}/layerdb/mounts/${p[4]}`, 'mount', p[4]!, drv, 5);
			if (p[3] === 'sha256' && p.length >= 5)
				return make(`${base}/layerdb/sha256/${p[4]}`, 'layer-record', p[4]!.slice(0, 64), drv, 5);
			if (p[3] === 'tmp') return make(`${base}/layerdb/tmp`, 'layerdb-tmp', null, drv, 4);
		}
		if (p[2] === 'imagedb' && p[3] === 'content' && p.length >= 6)
			return make(`${base}/imagedb/content/sha256/${p[5]}`, 'image-config', p[5]!, drv, 6);
		if (p[2] === 'imagedb' && p[3] === 'metadata' && p.length >= 6)
			return make(`${base}/imagedb/metadata/sha256/${p[5]}`, 'image-metadata', p[5]!, drv, 6);
		if (p[2] === 'repositories.json') return make(`${base}/repositories.json`, 'tags', null, drv, 3);
		if (p[2] === 'distribution') return make(`${base}/distribution`, 'distribution', null, drv, 3);
		return make(base, 'other', null, drv, 2);
	}
	const info = driverInfo(top);
	if (info !== undefined && info.containerd !== true && p.length >= 2) return driverPlace(p, info);
	if (top === 'volumes') return make('volumes', 'volumes', null, null, 1);
	if (top === 'network') return make('network', 'network', null, null, 1);
	if (top === 'buildkit') return make('buildkit', 'buildkit', null, null, 1);
	if (top === 'containerd') return make('containerd', 'containerd', null, null, 1);
	if (top === 'tmp' || top === 'tmp-old') return make(top, 'tmp', null, null, 1);
	return make(top, 'other', null, null, 1);
}

/** What a cache id is, as the models know it. */
export type CacheOwner = {
	readonly role: 'rw' | 'init' | 'image';
	readonly containerId?: string;
	readonly containerName?: string | null;
	readonly chainId?: string;
	readonly createdBy?: string | null;
};

/** cache id → what it belongs to, from one or more models (the first that knows wins). */
export function cacheOwners(...models: Model[]): Map<string, CacheOwner> {
	const m = new Map<string, CacheOwner>();
	for (const model of models) {
		for (const c of model.containers) {
			if (c.mountId !== null && !m.has(c.mountId))
				m.set(c.mountId, {role: 'rw', containerId: c.id, containerName: c.name});
			if (c.initId !== null && !m.has(c.initId))
				m.set(c.initId, {role: 'init', containerId: c.id, containerName: c.name});
		}
		for (const l of model.layers)
			if (l.cacheId !== null && !m.has(l.cacheId))
				m.set(l.cacheId, {role: 'image', chainId: l.chainId, createdBy: l.createdBy});
	}
	return m;
}

/** What an area is for, in one or two sentences. */
export function areaText(place: Place, owner: CacheOwner | undefined): string {
	switch (place.kind) {
		case 'container':
			return "the container's own directory: its config and host config from docker create; hostname, hosts, resolv.conf and the log from its first start";
		case 'mount':
			return "the container's record in the layer store: the cache ids of its RW and init layers and the chain id of the image layer they sit on";
		case 'layer-record':
			return "a read-only layer's record in the layer store, named by its chain id";
		case 'image-config':
			return "an image config; the file's sha256 is the image id";
		case 'image-metadata':
			return `an image's local metadata (${imageMetadataFiles.map(n => n.label).join(', ')})`;
		case 'tags':
			return 'tags and digests pointing to image ids';
		case 'layer-dir': {
			const f = driverFacts(place.driver);
			if (owner?.role === 'rw') {
				// vfs (and other flattened drivers) copy the whole image and init layer into the RW layer at docker create.
				const what =
					f.family === 'flattened'
						? 'a full copy of its image and init layer, plus what the container changed'
						: 'what the container changed';
				return `the RW layer of container ${owner.containerName ?? shortId(owner.containerId)} in ${f.driver}: ${what}`;
			}
			if (owner?.role === 'init')
				return `the init layer of container ${owner.containerName ?? shortId(owner.containerId)} in ${f.driver}: the placeholders every container needs`;
			if (owner?.role === 'image') return `an image layer's directory in ${f.driver} (chain ${shortId(owner.chainId)})`;
			if (place.id?.endsWith('-init'))
				return `an init layer's directory in ${f.driver} (no container in either snapshot claims it)`;
			return `a layer directory in ${f.driver} that no container or layer record in either snapshot claims`;
		}
		case 'driver-links':
			return `short names for layer directories: each entry is a symlink to ../<cache id>/diff, used to keep the mount options short`;
		case 'layerdb-tmp':
			return 'a layer being written: a transaction directory that disappears when the layer is committed to layerdb/sha256/';
		case 'distribution':
			return 'links between registry blobs (compressed) and local layers (uncompressed diff ids), written by pull and push';
		case 'volumes':
			return "named and anonymous volumes: metadata.db and each volume's _data";
		case 'network':
			return "the network library's own store (local-kv.db): networks, endpoints, sandboxes; the daemon rewrites it on start";
		case 'buildkit':
			return "BuildKit's cache and state (not used by the classic builder)";
		case 'containerd':
			return 'the state of the containerd that dockerd started for itself; it changes whenever the daemon starts or runs something';
		case 'tmp':
			return "the daemon's scratch space (renamed to tmp-old and emptied at each daemon start)";
		case 'other':
			if (/^image\/[^/]+$/.test(place.area))
				return 'the image and layer store of this storage driver (imagedb/, layerdb/, repositories.json)';
			return place.area === 'engine-id'
				? "the daemon's id (Docker 23 and later)"
				: place.area === 'runtimes'
					? 'wrapper scripts for runtimes with arguments'
					: 'daemon state outside the image and layer stores';
	}
}

/** What one file inside an area is, when there is something to say. */
export function fileText(place: Place, owner: CacheOwner | undefined): string | null {
	const w = place.within;
	if (w === '') return null;
	const first = w.split('/')[0]!;
	switch (place.kind) {
		case 'container': {
			if (w.includes('/') && first !== 'checkpoints' && first !== 'mounts' && first !== 'local-logs') return null;
			return (
				containerFile(w.includes('/') ? `${first}/` : w, place.id ?? undefined)?.text ??
				(w.startsWith('.tmp-') ? 'a temporary file of an atomic write' : null)
			);
		}
		case 'mount':
			return mountFile(w)?.text ?? null;
		case 'layer-record':
			return layerRecordFile(w)?.text ?? null;
		case 'image-metadata':
			return imageMetadataFiles.find(n => n.label === w)?.text ?? null;
		case 'layer-dir': {
			const f = driverFacts(place.driver);
			const id = place.id ?? '';
			let inContent: string | null = null;
			const info = driverInfo(place.driver);
			if (info?.entryDirs !== undefined) {
				// `within` starts with the name of the entry directory (aufs: diff, layers, mnt).
				const sub = w.split('/')[0]!;
				const holds = info.entryDirs.find(e => e.dir === `${place.driver}/${sub}`)?.holds;
				if (w === sub && holds === 'ancestry') return "the list of this layer's lower layers, nearest first";
				if (w === sub && holds === 'mount') return f.mountPoint(id)?.text ?? null;
				if (w === sub && holds === 'files') return "this layer's files";
				inContent = holds === 'files' && w !== sub ? w.slice(sub.length + 1) : null;
			} else if (f.family === 'flattened' && info?.fullImageLayers !== true) inContent = w;
			else {
				const rec = f.records(id).find(n => n.label.replace(/\/$/, '') === `${place.area}/${w}`);
				if (rec !== undefined) return rec.text;
				if (w === 'merged') return f.mountPoint(id)?.text ?? null;
				if (w === 'work/work' || w === 'work/index')
					return 'made by the kernel inside work/ the first time the layers were mounted (docker create mounts them briefly, to prepare volume mount points)';
				inContent = w.startsWith('diff/') ? w.slice(5) : w.startsWith('upper/') ? w.slice(6) : null;
			}
			if (inContent !== null && (owner?.role === 'init' || id.endsWith('-init')))
				return initPlaceholder(inContent)?.text ?? null;
			return null;
		}
		default:
			return null;
	}
}

export {whyInit};
