import {append} from '../../append.ts';
import {type Finding, finding} from '../../finding.ts';
import {type Bolt, type BoltBucketRef, bucketAt} from '../../formats/bbolt.ts';
import type {Source} from '../../sources/source.ts';
import type {RawContainer} from '../container-store.ts';
import {type DriverInfo, drivers, isDriverName} from '../drivers/registry.ts';
import type {RawContainerdStore, RawLayer, RawMount, StoreParts} from '../image-store.ts';
import {digest as digestRe, hex64} from '../json-files.ts';
import {readBolt} from '../volumes.ts';
import {type SnapshotRecord, containerdRoot, fields, metaDbPath, uvarint, varint} from './meta-db.ts';

/**
 * The snapshotters' side of the containerd image store: each snapshotter's own `metadata.db`
 * (containerd core/snapshots/storage): `v1/snapshots/<backend key>/{id (uvarint), kind (1 view,
 * 2 active, 3 committed), parent, size (varint), inodes}`. meta.db's snapshot `name` is that
 * backend key (`moby/<n>/<key>`), and the snapshot's directory is `snapshots/<id>` (`/fs` for
 * overlayfs). From both, one snapshotter's layers (chain id → directory) and container mounts.
 */
function snapshotterRoot(name: string): string {
	return `${containerdRoot}/io.containerd.snapshotter.v1.${name}`;
}

/** Snapshotter names a container's Driver has in containerd mode (config.v2.json). */
const snapshotters = new Set(['overlayfs', 'native', 'stargz', 'nydus', 'erofs', 'devmapper', 'blockfile']);

/** Snapshotters whose snapshots layerlens reads (each has an entry in drivers.ts). */
export function isReadableSnapshotter(name: string): boolean {
	return isDriverName(name) && (drivers[name] as DriverInfo).containerd === true;
}

/** How many containers use each containerd snapshotter (a Driver that is no image/<driver>/ store read already). */
export function snapshottersUsed(
	containers: readonly RawContainer[],
	imageStores: readonly string[],
): Map<string, number> {
	const usedBy = new Map<string, number>();
	for (const c of containers)
		if (
			c.driver !== undefined &&
			(snapshotters.has(c.driver) || isReadableSnapshotter(c.driver)) &&
			!imageStores.includes(c.driver)
		)
			usedBy.set(c.driver, (usedBy.get(c.driver) ?? 0) + 1);
	return usedBy;
}

/** Longest snapshot parent chain followed. */
const maxDepth = 512;

// ---- the snapshotter's metadata.db

type BackendRecord = {
	readonly key: string;
	readonly id?: string;
	readonly kind: string;
	readonly parent?: string;
	readonly size?: number;
};

const kinds: Record<number, string> = {0: 'unknown', 1: 'view', 2: 'active', 3: 'committed'};

export type Backend = {readonly map: Map<string, BackendRecord>; readonly read: boolean; readonly path: string};

/** The records of `v1/snapshots`: backend key → id, kind, parent, size. */
function backendRecords(db: Bolt, bucket: BoltBucketRef, errors: string[]): Map<string, BackendRecord> {
	const map = new Map<string, BackendRecord>();
	const list = db.entries(bucket);
	append(errors, list.errors);
	for (const e of list.entries) {
		if (e.bucket === undefined) continue;
		const key = e.key.toString('utf8');
		const f = fields(db, e.bucket, errors);
		const idRaw = f.values.get('id');
		const id = idRaw === undefined ? undefined : uvarint(idRaw);
		const kindRaw = f.values.get('kind');
		const kind =
			kindRaw !== undefined && kindRaw.length === 1 ? (kinds[kindRaw[0]!] ?? `kind ${kindRaw[0]}`) : 'unknown';
		const parent = f.values.get('parent')?.toString('utf8');
		const sizeRaw = f.values.get('size');
		const size = sizeRaw === undefined ? undefined : varint(sizeRaw);
		map.set(key, {
			key,
			...(id !== undefined ? {id: String(id)} : {}),
			kind,
			...(parent !== undefined && parent !== '' ? {parent} : {}),
			...(size !== undefined && size >= 0 ? {size} : {}),
		});
	}
	return map;
}

/** One snapshotter's metadata.db; `snapshots` is how many of its snapshots meta.db records (whose directories are unknown without it). */
function readBackend(source: Source, sn: string, snapshots: number, findings: Finding[]): Backend {
	const path = `${snapshotterRoot(sn)}/metadata.db`;
	const sb = readBolt(source, path, `store:${sn}`, `${sn} snapshotter metadata.db`);
	append(findings, sb.findings);
	if (sb.db === undefined) {
		if (sb.missing && snapshots > 0) {
			findings.push(
				finding(
					'error',
					'file.missing',
					`store:${sn}`,
					`the ${sn} snapshotter's metadata.db is missing: it maps each snapshot to its directory snapshots/<id>, so the directories of all ${snapshots} snapshots are unknown`,
					path,
				),
			);
		}
		return {map: new Map(), read: false, path};
	}
	const at = bucketAt(sb.db, ['v1', 'snapshots']);
	const serr: string[] = [...at.errors];
	let map = new Map<string, BackendRecord>();
	if (at.bucket !== undefined) map = backendRecords(sb.db, at.bucket, serr);
	else if (serr.length === 0)
		findings.push(
			finding(
				'warning',
				'db.shape',
				`store:${sn}`,
				`the ${sn} snapshotter's metadata.db has no v1/snapshots bucket`,
				path,
			),
		);
	for (const e of serr)
		findings.push(finding('error', 'db.damaged', `store:${sn}`, `${sn} snapshotter metadata.db: ${e}`, path));
	return {map, read: true, path};
}

/** Each snapshotter's own metadata.db: backend key → id (its directory), kind, parent, size. */
export function readBackends(
	source: Source,
	storeNames: readonly string[],
	snapshotRecords: ReadonlyMap<string, ReadonlyMap<string, SnapshotRecord>>,
	findings: Finding[],
): Map<string, Backend> {
	const backends = new Map<string, Backend>();
	for (const sn of storeNames) backends.set(sn, readBackend(source, sn, snapshotRecords.get(sn)?.size ?? 0, findings));
	return backends;
}

// ---- one snapshotter's layers and mounts

/** One snapshotter's meta.db records and its metadata.db, as the layers and mounts are read from them. */
type Snapshotter = {
	readonly sn: string;
	readonly records: ReadonlyMap<string, SnapshotRecord>;
	readonly backend: Backend | undefined;
};

/** The backend record (the directory) of a meta.db snapshot; when unknown, why is a finding of `owner` in `findings`. */
function backendOf(s: Snapshotter, rec: SnapshotRecord, owner: string, findings: Finding[]): BackendRecord | undefined {
	const backend = s.backend;
	if (backend === undefined || !backend.read) return undefined;
	if (rec.name === undefined) {
		findings.push(
			finding(
				'error',
				'db.shape',
				owner,
				`meta.db snapshot ${JSON.stringify(rec.key.slice(0, 200))} (${s.sn}) has no backend name`,
				metaDbPath,
			),
		);
		return undefined;
	}
	const b = backend.map.get(rec.name);
	if (b === undefined || b.id === undefined) {
		findings.push(
			finding(
				'error',
				'containerd.snapshot-unmapped',
				owner,
				`meta.db snapshot ${JSON.stringify(rec.key.slice(0, 200))} names the ${s.sn} snapshot ${JSON.stringify(rec.name.slice(0, 200))}, which the snapshotter's metadata.db ${b === undefined ? 'does not hold' : 'holds without an id'}: its directory is unknown`,
				backend.path,
			),
		);
		return undefined;
	}
	return b;
}

/** A layer from its snapshot; `snapshotOnly`: a snapshot in a layer's ancestry that is no image's layer (a build container's init). */
function layerRecord(s: Snapshotter, rec: SnapshotRecord, diffId: string | undefined, snapshotOnly: boolean): RawLayer {
	const owner = `layer:${rec.key}`;
	const own: Finding[] = [];
	const b = backendOf(s, rec, owner, own);
	if (snapshotOnly) {
		const ctr = /^([0-9a-f]{64})-init$/.exec(rec.key)?.[1];
		own.push(
			finding(
				'info',
				'layer.init-snapshot',
				owner,
				`${ctr !== undefined ? `the init snapshot of container ${ctr.slice(0, 12)} (a build step's container, now gone)` : `snapshot ${JSON.stringify(rec.key.slice(0, 200))}, no image's layer,`} is the parent of a committed layer: Docker committed that layer on it, so its files (the init placeholders) are mounted below the layer in every container built on it, though no image's content holds them`,
				metaDbPath,
			),
		);
	}
	return {
		chainId: rec.key,
		path: metaDbPath,
		...(diffId !== undefined ? {diffId} : {}),
		...(b?.id !== undefined ? {cacheId: b.id} : {}),
		...(rec.parent !== undefined ? {parent: rec.parent} : {}),
		...(b?.size !== undefined ? {size: b.size} : {}),
		...(snapshotOnly ? {snapshotOnly: true as const} : {}),
		findings: own,
	};
}

/** The layers: every snapshot keyed by a chain id, and below them the snapshots in their ancestry that are no layer. */
function readLayers(s: Snapshotter, diffOf: ReadonlyMap<string, string>): Map<string, RawLayer> {
	const layers = new Map<string, RawLayer>();
	for (const rec of s.records.values()) {
		if (!digestRe.test(rec.key)) continue;
		layers.set(rec.key, layerRecord(s, rec, diffOf.get(rec.key), false));
	}
	// Walk down from each layer: a non-layer snapshot in a layer's ancestry (a build container's init) joins as snapshotOnly.
	for (const l of [...layers.values()]) {
		let p = l.parent;
		let depth = 0;
		while (p !== undefined && !layers.has(p) && depth++ < maxDepth) {
			const rec = s.records.get(p);
			if (rec === undefined) break;
			layers.set(p, layerRecord(s, rec, undefined, true));
			p = rec.parent;
		}
	}
	return layers;
}

/** The container mounts: every snapshot keyed by a container id, with its `<id>-init` parent. */
function readMounts(s: Snapshotter): Map<string, RawMount> {
	const mounts = new Map<string, RawMount>();
	for (const rec of s.records.values()) {
		if (!hex64.test(rec.key)) continue;
		const owner = `container:${rec.key}`;
		const own: Finding[] = [];
		const rw = backendOf(s, rec, owner, own);
		const initRec = rec.parent === `${rec.key}-init` ? s.records.get(rec.parent) : undefined;
		const init = initRec === undefined ? undefined : backendOf(s, initRec, owner, own);
		const parent = initRec !== undefined ? initRec.parent : rec.parent;
		mounts.set(rec.key, {
			containerId: rec.key,
			path: metaDbPath,
			...(rw?.id !== undefined ? {mountId: rw.id} : {}),
			...(init?.id !== undefined ? {initId: init.id} : {}),
			...(parent !== undefined ? {parent} : {}),
			findings: own,
		});
	}
	return mounts;
}

/** What the checks compare the snapshot directories against: both databases' records, side by side. */
function containerdRecords(s: Snapshotter): RawContainerdStore {
	const backend = s.backend;
	const snapshotIds = new Map<string, {key: string; kind: string}>();
	for (const r of backend?.map.values() ?? [])
		if (r.id !== undefined) snapshotIds.set(r.id, {key: r.key, kind: r.kind});
	const snapshots = new Map<string, {name?: string; parent?: string; id?: string; kind?: string}>();
	for (const rec of s.records.values()) {
		const b = rec.name === undefined ? undefined : backend?.map.get(rec.name);
		snapshots.set(rec.key, {
			...(rec.name !== undefined ? {name: rec.name} : {}),
			...(rec.parent !== undefined ? {parent: rec.parent} : {}),
			...(b?.id !== undefined ? {id: b.id} : {}),
			...(b !== undefined ? {kind: b.kind} : {}),
		});
	}
	return {
		metaDb: metaDbPath,
		snapshotterDb: backend?.path ?? `${snapshotterRoot(s.sn)}/metadata.db`,
		snapshotIds,
		snapshots,
		snapshotterDbRead: backend?.read ?? false,
	};
}

type SnapshotStore = {
	readonly layers: Map<string, RawLayer>;
	readonly mounts: Map<string, RawMount>;
	readonly containerd: RawContainerdStore;
};

/**
 * One snapshotter's layers and mounts (as `parts` asks) from its meta.db records and its
 * metadata.db; `diffOf` maps chain ids to diff ids (from the images' configs). Every finding
 * belongs to a layer or a mount.
 */
export function readSnapshotStore(
	sn: string,
	records: ReadonlyMap<string, SnapshotRecord>,
	backend: Backend | undefined,
	diffOf: ReadonlyMap<string, string>,
	parts: StoreParts,
): SnapshotStore {
	const s: Snapshotter = {sn, records, backend};
	return {
		layers: parts.layers || parts.mounts ? readLayers(s, diffOf) : new Map(),
		mounts: parts.mounts ? readMounts(s) : new Map(),
		containerd: containerdRecords(s),
	};
}
