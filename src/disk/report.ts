import type {Finding} from '../finding.ts';
import type {Container, Image, Model} from '../model/types.ts';
import {drivers, isDriverName} from '../read/drivers/registry.ts';
import {byString} from '../sources/source.ts';
import type {LedgerWalk, SparseFile, Tally} from './ledger.ts';
import {type LedgerKind, ledgerKinds} from './ledger-owners.ts';

export type DfCategory = {
	readonly kind: LedgerKind;
	readonly bytes: number;
	/** Allocated bytes of its files (st_blocks × 512); null on an archive root. */
	readonly allocated: number | null;
	/** How many objects it holds (layers, containers, volumes, paths…). */
	readonly count: number;
	readonly files: number;
	readonly reclaimableBytes: number;
	/** The docker command that frees the reclaimable bytes, or what a person would do; null when nothing frees them. */
	readonly reclaimBy: string | null;
	/** image-layer only: bytes of layers that two or more images have (any image, intermediate ones included). */
	readonly sharedBytes?: number;
};

export type DfImage = {
	readonly id: string;
	readonly tags: string[];
	readonly intermediate: boolean;
	readonly dangling: boolean;
	/** Sum of its layers' layerdb sizes (the Engine API's Size). */
	readonly size: number | null;
	/** As dockerd 20.10 to 25 count it: layers that two or more listed images (tagged or dangling, not intermediate) have. */
	readonly sharedSize: number | null;
	/** As dockerd 26 counts it, and layerlens: layers that two or more images have, intermediate ones included. */
	readonly sharedSizeAllImages: number | null;
	readonly uniqueSize: number | null;
	readonly containers: number;
	/** Bytes on disk of its layers' directories (diff/, link, work/ and layerdb records), measured. */
	readonly diskBytes: number;
};

export type DfContainer = {
	readonly id: string;
	readonly name: string | null;
	readonly imageId: string | null;
	readonly status: string | null;
	/** The Engine API's SizeRw: bytes of every non-directory in the RW layer, hard links once (vfs: what differs from the init layer). */
	readonly sizeRw: number | null;
	/** SizeRootFs: sizeRw plus the layerdb size of each image layer (the init layer not counted). */
	readonly sizeRootFs: number | null;
	/** Bytes of its log files on disk, rotated ones included (in no API). */
	readonly logBytes: number;
	/** Bytes of its RW and init layers' directories, its containers/<id>/ files and logs, as the ledger counts them. */
	readonly diskBytes: number;
};

export type DfVolume = {
	readonly name: string;
	readonly bytes: number;
	readonly containers: number;
	readonly anonymous: boolean;
	readonly inDb: boolean;
};

export type DfBuildRecord = {
	readonly id: string;
	readonly type: string;
	readonly description: string | null;
	readonly size: number | null;
	readonly lastUsedAt: string | null;
};

export type DfReport = {
	readonly schema: 1;
	readonly root: string;
	readonly sourceKind: 'dir' | 'archive';
	/** bytes: apparent (st_size of every non-directory, hard links once); blocks: allocated bytes (st_blocks × 512, directories included), null on an archive. */
	readonly total: {
		readonly bytes: number;
		readonly blocks: number | null;
		readonly files: number;
		readonly directories: number;
		readonly unknown: number;
	};
	readonly categories: DfCategory[];
	readonly images: DfImage[];
	readonly containers: DfContainer[];
	readonly volumes: DfVolume[];
	readonly buildCache: DfBuildRecord[];
	readonly unattributed: Array<{readonly path: string; readonly bytes: number}>;
	readonly orphans: Array<{readonly path: string; readonly bytes: number; readonly code: string | null}>;
	readonly sparse: SparseFile[];
	readonly findings: Finding[];
};

const reclaimBy: Partial<Record<LedgerKind, string>> = {
	'image-layer': 'docker image prune -a',
	'container-rw': 'docker container prune',
	'container-init': 'docker container prune',
	'container-logs': 'docker container prune',
	'container-files': 'docker container prune',
	volume: 'docker volume prune -a',
	'build-cache': 'docker builder prune -a',
	orphan:
		'with the daemon stopped, remove the paths listed (docker never frees them; `layerlens check` says why each is there)',
};

const liveStatus = new Set(['running', 'paused', 'restarting']);

/** Whether the tallied object would be freed by its category's command. */
function reclaimable(
	t: Tally,
	_model: Model,
	byId: Map<string, Container>,
	layerUsers: Map<string, number>,
	volumeUsers: Map<string, number>,
): boolean {
	const {kind, ref} = t.owner;
	if (kind === 'image-layer') return (layerUsers.get(ref) ?? 0) === 0;
	if (kind.startsWith('container-')) {
		const c = byId.get(ref);
		return c !== undefined && !liveStatus.has(c.status ?? '');
	}
	if (kind === 'volume') return (volumeUsers.get(ref) ?? 0) === 0;
	return kind === 'build-cache' || kind === 'orphan';
}

function categories(walk: LedgerWalk, model: Model, shared: Set<string>): DfCategory[] {
	const byId = new Map(model.containers.map(c => [c.id, c]));
	const layerUsers = new Map(model.layers.map(l => [l.chainId, l.containers.length]));
	const volumeUsers = new Map((model.volumes ?? []).map(v => [v.name, new Set(v.mounts.map(m => m.containerId)).size]));
	const out = new Map<
		LedgerKind,
		{bytes: number; allocated: number; count: number; files: number; reclaimableBytes: number; sharedBytes: number}
	>();
	for (const k of ledgerKinds)
		out.set(k, {bytes: 0, allocated: 0, count: 0, files: 0, reclaimableBytes: 0, sharedBytes: 0});
	for (const t of walk.tallies.values()) {
		const c = out.get(t.owner.kind)!;
		c.bytes += t.bytes;
		c.allocated += t.allocated;
		c.count++;
		c.files += t.files;
		if (reclaimable(t, model, byId, layerUsers, volumeUsers)) c.reclaimableBytes += t.bytes;
		if (t.owner.kind === 'image-layer' && shared.has(t.owner.ref)) c.sharedBytes += t.bytes;
	}
	return ledgerKinds.map(kind => {
		const c = out.get(kind)!;
		return {
			kind,
			bytes: c.bytes,
			allocated: walk.allocated === null ? null : c.allocated,
			count: c.count,
			files: c.files,
			reclaimableBytes: c.reclaimableBytes,
			reclaimBy: c.reclaimableBytes > 0 ? (reclaimBy[kind] ?? null) : null,
			...(kind === 'image-layer' ? {sharedBytes: c.sharedBytes} : {}),
		};
	});
}

/** How many of these images have each layer (by chain id). */
function layerRefs(images: readonly Image[]): Map<string, number> {
	const refs = new Map<string, number>();
	for (const i of images) for (const ch of new Set(i.chainIds)) refs.set(ch, (refs.get(ch) ?? 0) + 1);
	return refs;
}

function imagesOf(model: Model, walk: LedgerWalk): DfImage[] {
	const size = new Map(model.layers.map(l => [l.chainId, l.size]));
	const listed = layerRefs(model.images.filter(i => !i.intermediate));
	const all = layerRefs(model.images);
	const sum = (chains: readonly string[], refs?: Map<string, number>): number | null => {
		let n = 0;
		for (const ch of new Set(chains)) {
			if (refs !== undefined && (refs.get(ch) ?? 0) < 2) continue;
			const s = size.get(ch);
			if (s === undefined || s === null) return null;
			n += s;
		}
		return n;
	};
	return model.images.map(i => {
		const total = sum(i.chainIds);
		const sharedSize = sum(i.chainIds, listed);
		const diskBytes = [...new Set(i.chainIds)].reduce(
			(n, ch) => n + (walk.tallies.get(`image-layer\0${ch}`)?.bytes ?? 0),
			0,
		);
		return {
			id: i.id,
			tags: i.tags,
			intermediate: i.intermediate,
			dangling: i.dangling,
			size: total,
			sharedSize,
			sharedSizeAllImages: sum(i.chainIds, all),
			uniqueSize: total === null || sharedSize === null ? null : total - sharedSize,
			containers: model.containers.filter(c => c.imageId === i.id).length,
			diskBytes,
		};
	});
}

/** A containerd snapshotter (the containerd image store): its usage is what `du -B1` counts, measured when asked. */
function isSnapshotter(driver: string | null): boolean {
	return driver !== null && isDriverName(driver) && drivers[driver].layersDir.startsWith('containerd/');
}

/**
 * SizeRw and what SizeRootFs adds to it. Graph drivers: apparent bytes of the RW layer (vfs: what
 * differs from the init layer), then the image layers' layerdb sizes. The containerd store, as
 * dockerd 26 counts: the snapshotter's usage of the RW snapshot (allocated bytes, directories
 * included, measured now), then the usage of every parent snapshot: the init snapshot (measured)
 * and each image layer (its recorded size); unknown where the source has no block counts.
 */
function rwAndImage(c: Container, walk: LedgerWalk, size: Map<string, number | null>): [number | null, number | null] {
	const rw = walk.tallies.get(`container-rw\0${c.id}`);
	if (!c.chain.some(e => e.role === 'rw' && e.pathExists)) return [null, null];
	const c8d = isSnapshotter(c.driver);
	if (c8d && walk.allocated === null) return [null, null];
	let image: number | null = c8d ? (walk.tallies.get(`container-init\0${c.id}`)?.contentAllocated ?? 0) : 0;
	for (const e of c.chain) {
		if (e.role !== 'image') continue;
		const s = e.chainId === undefined ? null : (size.get(e.chainId) ?? null);
		image = image === null || s === null ? null : image + s;
	}
	return [c8d ? (rw?.contentAllocated ?? 0) : (rw?.contentBytes ?? 0), image];
}

function containersOf(model: Model, walk: LedgerWalk): DfContainer[] {
	const size = new Map(model.layers.map(l => [l.chainId, l.size]));
	return model.containers.map(c => {
		const [sizeRw, image] = rwAndImage(c, walk, size);
		const parts = ['container-rw', 'container-init', 'container-files', 'container-logs'].map(
			k => walk.tallies.get(`${k}\0${c.id}`)?.bytes ?? 0,
		);
		return {
			id: c.id,
			name: c.name,
			imageId: c.imageId,
			status: c.status,
			sizeRw,
			sizeRootFs: sizeRw === null || image === null ? null : sizeRw + image,
			logBytes: walk.tallies.get(`container-logs\0${c.id}`)?.bytes ?? 0,
			diskBytes: parts.reduce((a, b) => a + b, 0),
		};
	});
}

/** The report of one walk: categories, per-object figures, and what no owner names. */
export function dfReport(model: Model, walk: LedgerWalk): DfReport {
	const shared = new Set([...layerRefs(model.images)].filter(([, n]) => n >= 2).map(([ch]) => ch));
	const tallies = [...walk.tallies.values()];
	const byPath = (kind: LedgerKind): Tally[] =>
		tallies.filter(t => t.owner.kind === kind).sort((a, b) => b.bytes - a.bytes || byString(a.owner.ref, b.owner.ref));
	return {
		schema: 1,
		root: model.root,
		sourceKind: model.sourceKind,
		total: {
			bytes: walk.bytes,
			blocks: walk.allocated,
			files: walk.files,
			directories: walk.dirs,
			unknown: walk.unknown,
		},
		categories: categories(walk, model, shared),
		images: imagesOf(model, walk),
		containers: containersOf(model, walk),
		volumes: (model.volumes ?? []).map(v => ({
			name: v.name,
			bytes: walk.tallies.get(`volume\0${v.name}`)?.contentBytes ?? 0,
			containers: new Set(v.mounts.map(m => m.containerId)).size,
			anonymous: /^[0-9a-f]{64}$/.test(v.name),
			inDb: v.inDb,
		})),
		buildCache: (model.buildCache?.records ?? []).map(r => ({
			id: r.id,
			type: r.type,
			description: r.description,
			size: r.size,
			lastUsedAt: r.lastUsedAt,
		})),
		unattributed: byPath('other').map(t => ({path: t.owner.ref, bytes: t.bytes})),
		orphans: byPath('orphan').map(t => ({path: t.owner.ref, bytes: t.bytes, code: t.owner.finding?.code ?? null})),
		sparse: walk.sparse,
		findings: walk.findings,
	};
}
