import {append} from '../../append.ts';
import {type Finding, finding} from '../../finding.ts';
import {type Source, byString} from '../../sources/source.ts';
import type {RawContainer} from '../container-store.ts';
import {type RawImage, type RawImageStore, type RawRef, type StoreParts, chainIds} from '../image-store.ts';
import {type BlobReader, type Descriptor, blobPath, blobReader, readImageContent} from './content.ts';
import {type ImageRecord, type SnapshotRecord, imageNames, metaDbPath, readMetaDb, recordsByTarget} from './meta-db.ts';
import {type Backend, isReadableSnapshotter, readBackends, readSnapshotStore, snapshottersUsed} from './snapshots.ts';

/**
 * The containerd image store (the reference layout notes §6; opt-in from Docker 24, default on fresh
 * installs from 29), read into one RawImageStore per snapshotter, shaped like image/<driver>/:
 * the image and snapshot records of containerd's meta.db (meta-db.ts), the manifests, indexes and
 * configs of its content store (content.ts), and each snapshotter's metadata.db, which maps a
 * snapshot to its directory (snapshots.ts).
 *
 * The data is under `$ROOT/containerd/daemon` only when dockerd ran its own containerd; with a
 * system containerd it is in that containerd's root (/var/lib/containerd by default), outside
 * the Docker root: one `layout.containerd-store` finding says so, and names --containerd-root,
 * which mounts that root at `containerd/daemon` (mounted-source.ts), so this reader is the same.
 */
export type ContainerdRead = {
	/** One store per snapshotter read (driver = snapshotter name). */
	readonly stores: Map<string, RawImageStore>;
	readonly findings: Finding[];
};

type Snapshots = ReadonlyMap<string, ReadonlyMap<string, SnapshotRecord>>;

/** Which snapshotters become stores, and the one images go to when no snapshotter holds their top layer. */
type Plan = {readonly storeNames: readonly string[]; readonly primary: string};

/**
 * The snapshotters with snapshots in meta.db or containers using them; those layerlens does not
 * read are a finding each. Undefined when there is no store to make.
 */
function planStores(
	snapshots: Snapshots,
	usedBy: ReadonlyMap<string, number>,
	images: number,
	findings: Finding[],
): Plan | undefined {
	const count = (s: string): number => snapshots.get(s)?.size ?? 0;
	const present = [...new Set([...snapshots.keys(), ...usedBy.keys()])].sort(byString);
	const unread = present.filter(s => !isReadableSnapshotter(s) && (count(s) > 0 || usedBy.has(s)));
	for (const s of unread) {
		findings.push(
			finding(
				'error',
				'layout.containerd-store',
				'root',
				`the containerd snapshotter "${s}" (${count(s)} snapshots in ${metaDbPath}, ${usedBy.get(s) ?? 0} containers) is not read by layerlens: its images' layers and its containers' chains are not shown`,
				metaDbPath,
			),
		);
	}
	const readable = present.filter(s => isReadableSnapshotter(s) && (count(s) > 0 || usedBy.has(s)));
	// Images go to the snapshotter(s) holding their top layer; failing that, to the one Docker used.
	const primary =
		[...readable].sort(
			(a, b) => (usedBy.get(b) ?? 0) - (usedBy.get(a) ?? 0) || count(b) - count(a) || byString(a, b),
		)[0] ?? (images > 0 ? 'overlayfs' : undefined);
	if (primary === undefined) return undefined;
	return {storeNames: [...new Set([...readable, primary])].sort(byString), primary};
}

type Built = {image: RawImage; refs: RawRef[]; chain: string[]; topChain?: string};

/** What picks an index's platform manifest: the manifests containers were created from (by image id), and the snapshot keys of every snapshotter. */
type Choices = {
	readonly manifestsUsed: ReadonlyMap<string, ReadonlySet<string>>;
	readonly snapshotKeys: ReadonlyMap<string, string[]>;
};

/** One image from its records (several names can point to one target) and, when asked, its content. */
function buildImage(read: BlobReader, id: string, records: ImageRecord[], parts: StoreParts, choices: Choices): Built {
	const subject = `image:${id}`;
	const findings: Finding[] = [];
	const sorted = records.sort((a, b) => byString(a.name, b.name));
	const names = imageNames(id, sorted, findings);
	const first = sorted[0]!;
	const target: Descriptor = {
		digest: id,
		...(first.mediaType !== undefined ? {mediaType: first.mediaType} : {}),
		...(first.size !== undefined ? {size: first.size} : {}),
		attestation: false,
	};
	const base = {
		id,
		path: blobPath(id),
		...(names.parent !== undefined ? {parent: names.parent} : {}),
		...(names.lastUpdated !== undefined ? {lastUpdated: names.lastUpdated} : {}),
	};
	if (!parts.images) return {image: {...base, diffIds: [], history: [], findings}, refs: names.refs, chain: []};
	const content = readImageContent(
		read,
		target,
		subject,
		{preferred: choices.manifestsUsed.get(id), snapshotKeys: choices.snapshotKeys},
		findings,
	);
	const image: RawImage = {...base, ...content, findings};
	const chain = chainIds(image.diffIds);
	return {image, refs: names.refs, chain, ...(chain.length > 0 ? {topChain: chain.at(-1)!} : {})};
}

/** Every image, in order of id, its blobs read through one reader (one budget for all). */
function buildImages(
	source: Source,
	byTarget: ReadonlyMap<string, ImageRecord[]>,
	containers: readonly RawContainer[],
	snapshotKeys: ReadonlyMap<string, string[]>,
	parts: StoreParts,
): Built[] {
	const manifestsUsed = new Map<string, Set<string>>();
	for (const c of containers) {
		if (c.image === undefined || c.imageManifest === undefined) continue;
		const set = manifestsUsed.get(c.image) ?? new Set<string>();
		set.add(c.imageManifest);
		manifestsUsed.set(c.image, set);
	}
	const read = blobReader(source);
	const built: Built[] = [];
	for (const [id, recs] of [...byTarget].sort((a, b) => byString(a[0], b[0])))
		built.push(buildImage(read, id, recs, parts, {manifestsUsed, snapshotKeys}));
	return built;
}

/** Snapshot key → the snapshotters holding it. */
function allSnapshotKeys(snapshots: Snapshots): Map<string, string[]> {
	const keys = new Map<string, string[]>();
	for (const [sn, map] of snapshots) for (const k of map.keys()) keys.set(k, [...(keys.get(k) ?? []), sn]);
	return keys;
}

/** One snapshotter's store: its layers and mounts, and the images whose top layer it holds (or all without a holder, for the primary). */
function assembleStore(
	sn: string,
	plan: Plan,
	built: readonly Built[],
	snapshots: Snapshots,
	snapshotKeys: ReadonlyMap<string, string[]>,
	backend: Backend | undefined,
	diffOf: ReadonlyMap<string, string>,
	parts: StoreParts,
): RawImageStore {
	const snap = readSnapshotStore(sn, snapshots.get(sn) ?? new Map<string, SnapshotRecord>(), backend, diffOf, parts);
	const images = new Map<string, RawImage>();
	const refs: RawRef[] = [];
	for (const b of built) {
		const holders =
			b.topChain === undefined ? [] : (snapshotKeys.get(b.topChain) ?? []).filter(s => plan.storeNames.includes(s));
		const here = holders.length > 0 ? holders.includes(sn) : sn === plan.primary;
		if (!here) continue;
		images.set(b.image.id, b.image);
		append(refs, b.refs);
	}
	// Every finding of a snapshot belongs to its layer or its mount: none is the store's own.
	return {
		driver: sn,
		layout: 'containerd',
		refs,
		images,
		layers: snap.layers,
		mounts: snap.mounts,
		findings: [],
		containerd: snap.containerd,
	};
}

/**
 * Reads the containerd image store under `$ROOT/containerd/daemon`. `containers` are the root's
 * containers (their Driver names the snapshotter; their ImageManifest picks an index's platform);
 * `imageStores` are the image/<driver>/ stores already read (a snapshotter never shares a name with one).
 */
export function readContainerdStores(
	source: Source,
	containers: readonly RawContainer[],
	imageStores: readonly string[],
	parts: StoreParts,
): ContainerdRead {
	const findings: Finding[] = [];
	const stores = new Map<string, RawImageStore>();
	const usedBy = snapshottersUsed(containers, imageStores);
	const meta = readMetaDb(source, [...usedBy.keys()].sort(byString), findings);
	if (meta === undefined) return {stores, findings};
	const plan = planStores(meta.snapshots, usedBy, meta.images.length, findings);
	if (plan === undefined) return {stores, findings};
	const backends =
		parts.layers || parts.mounts
			? readBackends(source, plan.storeNames, meta.snapshots, findings)
			: new Map<string, Backend>();
	const byTarget = recordsByTarget(meta.images, findings);
	const snapshotKeys = allSnapshotKeys(meta.snapshots);
	const built = buildImages(source, byTarget, containers, snapshotKeys, parts);
	// chain id → diff id, from every image's config.
	const diffOf = new Map<string, string>();
	for (const b of built) b.chain.forEach((c, i) => diffOf.set(c, b.image.diffIds[i]!));
	for (const sn of plan.storeNames)
		stores.set(sn, assembleStore(sn, plan, built, meta.snapshots, snapshotKeys, backends.get(sn), diffOf, parts));
	return {stores, findings};
}
