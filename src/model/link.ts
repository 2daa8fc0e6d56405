import {append} from '../append.ts';
import {type Finding, compareFindings, finding} from '../finding.ts';
import type {RawContainer, RawState} from '../read/container-store.ts';
import type {DriverRecord, HostDriverRecord} from '../read/drivers/meta.ts';
import {type ContentDir, driverInfo, drivers, isDriverName} from '../read/drivers/registry.ts';
import {distributionOf} from '../read/distribution.ts';
import {isPathId} from '../read/json-files.ts';
import type {RawHost} from '../read/host.ts';
import type {RawImage, RawImageStore, RawLayer, RawMount} from '../read/image-store.ts';
import {byString} from '../sources/source.ts';
import {chainIds, realTime} from './ids.ts';
import {linkBuildCache} from './build-cache.ts';
import {linkNetworks, linkVolumes} from './link-volumes.ts';
import type {ChainEntry, Container, ContentDamage, HistoryEntry, Image, Layer, Model, Status} from './types.ts';
import {indexesOf} from './indexes.ts';

/** The longest layer chain followed through `parent` files; Docker's own limit is 128 (overlay2). */
const maxDepth = 256;

export function statusOf(s: RawState, startedAt: string | null): Status {
	if (s.running) return s.paused ? 'paused' : s.restarting ? 'restarting' : 'running';
	if (s.removalInProgress) return 'removing';
	if (s.dead) return 'dead';
	return startedAt === null ? 'created' : 'exited';
}

/** A layer's directory; never from an id that is not one safe path component (the readers already said why). */
function layerPath(driver: string, cacheId: string | undefined | null): string | null {
	if (cacheId === undefined || cacheId === null || !isPathId(cacheId) || !isDriverName(driver)) return null;
	return drivers[driver].layerPath(cacheId);
}

/** A container's RW or init layer directory (legacy overlay keeps them in upper/, not root/). */
function rwLayerPath(driver: string, cacheId: string): string | null {
	if (!isPathId(cacheId) || !isDriverName(driver)) return null;
	const info: {rwPath?: (id: string) => string; layerPath: (id: string) => string} = drivers[driver];
	return info.rwPath !== undefined ? info.rwPath(cacheId) : info.layerPath(cacheId);
}

type Ctx = {
	readonly raw: RawHost;
	readonly findings: Finding[];
	/** driver → chainId → users */
	readonly layerImages: Map<string, Map<string, Set<string>>>;
	readonly layerContainers: Map<string, Map<string, Set<string>>>;
	/** Driver records (driver\0id) some layer or container owns: the findings of the others go to the store. */
	readonly usedRecords: Set<string>;
	/** Image layers' content damage, by driver\0path, computed once (with its finding). */
	readonly damage: Map<string, ContentDamage | undefined>;
};

function use(map: Map<string, Map<string, Set<string>>>, driver: string, chainId: string, user: string): void {
	let m = map.get(driver);
	if (m === undefined) map.set(driver, (m = new Map()));
	let s = m.get(chainId);
	if (s === undefined) m.set(chainId, (s = new Set()));
	s.add(user);
}

/** Where a layer's metadata lives: layerdb (1.10+) or graph/<id> (pre-1.10, where the layer id is the graph id). */
function layerMeta(store: RawImageStore, chainId: string): string {
	if (store.layout === 'containerd') return store.containerd?.metaDb ?? 'containerd';
	return store.layout === 'v1' ? `graph/${chainId}` : `image/${store.driver}/layerdb/sha256/${chainId.slice(7)}`;
}

/** The layer store's name in messages: layerdb, graph/ (pre-1.10), or the containerd snapshots in meta.db. */
function layerDb(store: RawImageStore): string {
	return store.layout === 'v1'
		? 'graph/'
		: store.layout === 'containerd'
			? `meta.db (snapshots/${store.driver})`
			: 'layerdb';
}

/** The file of a layer's record that holds `file` (layerdb: one file each; graph/: json; containerd: meta.db). */
function layerFile(store: RawImageStore, chainId: string, file: string): string {
	if (store.layout === 'containerd') return layerMeta(store, chainId);
	return store.layout === 'v1' ? `${layerMeta(store, chainId)}/json` : `${layerMeta(store, chainId)}/${file}`;
}

/**
 * A layer's parent among the layers: its `parent`, skipping the snapshots that are no image's layer
 * (containerd: a layer committed on a build container's init snapshot has that snapshot as parent).
 */
function layerParent(store: RawImageStore, layer: RawLayer, through?: (id: string) => void): string | undefined {
	let p = layer.parent;
	for (let n = 0; p !== undefined && n < maxDepth; n++) {
		const next = store.layers.get(p);
		if (next?.snapshotOnly !== true) return p;
		through?.(p);
		p = next.parent;
	}
	return p;
}

/** Whether the driver has the layer: its directory (devicemapper: its device record); zfs keeps nothing in the root, so always. */
function dirExists(ctx: Ctx, driver: string, cacheId: string | undefined | null): boolean {
	if (cacheId === undefined || cacheId === null) return false;
	if (driverInfo(driver)?.presence === 'unknown') return true;
	return ctx.raw.driverDirs.get(driver)?.layerIds.has(cacheId) ?? false;
}

/** What a missing layer lacks, for findings: its directory, or (devicemapper) its device record, with the path to name. */
function missingWhat(driver: string, cacheId: string, dir: string | null): {what: string; path: string | undefined} {
	const info = driverInfo(driver);
	if (info?.presence === 'file') {
		const path = `${info.layersDir}/${cacheId}`;
		return {what: `${info.entryName ?? 'record'} ${path}`, path};
	}
	return {what: 'directory', path: dir ?? undefined};
}

/**
 * The driver's record of a layer (driver-meta.ts), and its findings under the layer's or container's
 * subject when `withFindings` (each record's findings are reported once, by its owner).
 */
function recordOf(
	ctx: Ctx,
	driver: string,
	cacheId: string | null | undefined,
	subject: string,
	withFindings: boolean,
): DriverRecord | undefined {
	if (cacheId === null || cacheId === undefined) return undefined;
	const derived = driverInfo(driver)?.derivedRecord;
	if (derived !== undefined) return derived(cacheId);
	const raw = ctx.raw.driverDirs.get(driver)?.records?.get(cacheId);
	if (raw === undefined) return undefined;
	if (withFindings) {
		ctx.usedRecords.add(`${driver}\0${cacheId}`);
		append(
			ctx.findings,
			raw.findings.map(f => ({...f, subject})),
		);
		const deleted = raw.record?.fields.deleted;
		if (driverInfo(driver)?.deferredDeletion === true && deleted === true) {
			ctx.findings.push(
				finding(
					'warning',
					'driver.device-deleted',
					subject,
					`its device record says the thin device is deleted (deferred deletion): the daemon refuses to mount it, so this layer cannot be used`,
					raw.record?.path ?? undefined,
				),
			);
		}
	}
	return raw.record;
}

/** What is wrong with a content directory, in words: 'overlay2/<id>/diff is missing'. */
function damageText(dir: ContentDir): string {
	if (dir.state === 'dir') return dir.empty ? 'is empty' : 'is there';
	if (dir.state === 'missing') return 'is missing';
	if (dir.state === 'symlink') return 'is a symlink (not followed)';
	if (dir.state === 'not-a-dir') return dir.detail;
	return `cannot be read (${dir.detail})`;
}

/**
 * An image layer's content directory, when its layer directory is there but the files are not:
 * missing, a symlink, not a directory, unreadable, or empty though layerdb records bytes (legacy
 * overlay's root/ is a full copy: empty though it or a layer below records bytes).
 */
function imageLayerDamage(ctx: Ctx, store: RawImageStore, layer: RawLayer): ContentDamage | undefined {
	const path = layerPath(store.driver, layer.cacheId);
	if (path === null) return undefined;
	const key = `${store.driver}\0${path}`;
	if (ctx.damage.has(key)) return ctx.damage.get(key);
	const dir = ctx.raw.driverDirs.get(store.driver)?.contents?.get(path);
	let out: ContentDamage | undefined;
	// Legacy overlay: an image layer's root/ is a full copy of the layers up to it.
	const fullCopy = driverInfo(store.driver)?.fullImageLayers === true;
	if (dir !== undefined && dir.state !== 'dir') out = {state: dir.state, path};
	else if (dir?.state === 'dir' && dir.empty) {
		const bytes = fullCopy ? bytesOf(store, layer) : (layer.size ?? 0);
		if (bytes > 0) out = {state: 'empty', path};
	}
	ctx.damage.set(key, out);
	if (out !== undefined) {
		const subject = `layer:${layer.chainId}`;
		const then =
			'its files are not in this root: every image and container built on it shows and exports an incomplete filesystem (files, diff, cat and export on them say so and exit 5)';
		if (out.state === 'empty') {
			const what = fullCopy
				? `it is a full copy of the layers up to this one, for which layerdb records ${bytesOf(store, layer)} bytes`
				: `layerdb records ${layer.size ?? 0} bytes for this layer (${layer.path}/size)`;
			ctx.findings.push(
				finding(
					'error',
					'layer.content-empty',
					subject,
					`its content directory ${path} is empty, but ${what}: its files were removed; ${then}`,
					path,
				),
			);
		} else if (dir !== undefined) {
			ctx.findings.push(
				finding(
					'error',
					out.state === 'unreadable' ? 'layer.content-unreadable' : 'layer.content-missing',
					subject,
					`its layer directory is there but its content directory ${path} ${damageText(dir)}: ${then}`,
					path,
				),
			);
		}
	}
	return out;
}

/** The bytes layerdb records for a layer and every layer below it (what a legacy overlay root/ holds). */
function bytesOf(store: RawImageStore, layer: RawLayer): number {
	let bytes = 0;
	const seen = new Set<string>();
	for (
		let l: RawLayer | undefined = layer;
		l !== undefined && !seen.has(l.chainId) && seen.size < maxDepth;
		l = l.parent === undefined ? undefined : store.layers.get(l.parent)
	) {
		seen.add(l.chainId);
		bytes += l.size ?? 0;
	}
	return bytes;
}

/**
 * A container's RW or init content directory (`diff/`, legacy overlay `upper/`). Empty is no
 * finding: an RW layer is empty when the container changed nothing, and nothing records what an
 * init layer held (docker writes its placeholders, but layerdb keeps no size for it).
 */
function rwLayerDamage(
	ctx: Ctx,
	driver: string,
	role: 'rw' | 'init',
	cacheId: string,
	subject: string,
): ContentDamage | undefined {
	const path = rwLayerPath(driver, cacheId);
	if (path === null) return undefined;
	const dir = ctx.raw.driverDirs.get(driver)?.contents?.get(path);
	if (dir === undefined || dir.state === 'dir') return undefined;
	const what = role === 'rw' ? 'RW' : 'init';
	ctx.findings.push(
		finding(
			'error',
			dir.state === 'unreadable' ? 'container.layer-content-unreadable' : 'container.layer-content-missing',
			subject,
			`its ${what} layer directory is there but its content directory ${path} ${damageText(dir)}: ${role === 'rw' ? 'what the container changed is' : "the init layer's files are"} not in this root, so files, diff, cat and export on it show an incomplete filesystem (they say so and exit 5)`,
			path,
		),
	);
	return {state: dir.state, path};
}

/** Says when the config bytes do not hash to the image id. */
function checkContentDigest(ctx: Ctx, img: RawImage, subject: string): void {
	if (img.contentDigest === undefined || img.contentDigest === img.id) return;
	ctx.findings.push(
		finding(
			'error',
			'image.id-mismatch',
			subject,
			`config bytes hash to ${img.contentDigest}, not to the image id`,
			img.path,
		),
	);
}

/**
 * Links one layer of an image's chain (the users, its diff id and parent checked against the image's);
 * returns the layer's size, null when it is missing or its size unknown.
 */
function linkChainLayer(
	ctx: Ctx,
	store: RawImageStore,
	img: RawImage,
	chain: readonly string[],
	i: number,
	subject: string,
): number | null {
	const chainId = chain[i]!;
	const db = layerDb(store);
	use(ctx.layerImages, store.driver, chainId, img.id);
	const layer = store.layers.get(chainId);
	if (layer === undefined) {
		ctx.findings.push(
			finding(
				'error',
				'image.layer-missing',
				subject,
				`layer ${i + 1} of ${chain.length} (${store.layout === 'v1' ? 'id' : 'chain id'} ${chainId}) is not in ${db}`,
				layerMeta(store, chainId),
			),
		);
		return null;
	}
	if (layer.diffId !== undefined && layer.diffId !== img.diffIds[i]) {
		ctx.findings.push(
			finding(
				'error',
				'layer.diff-mismatch',
				`layer:${chainId}`,
				`layerdb diff ${layer.diffId} differs from the image's diff id ${img.diffIds[i]}`,
				`${layer.path}/diff`,
			),
		);
	}
	const expectedParent = i === 0 ? undefined : chain[i - 1];
	const parent = layerParent(store, layer, id => use(ctx.layerImages, store.driver, id, img.id));
	if (parent !== expectedParent) {
		ctx.findings.push(
			finding(
				'error',
				'layer.parent-mismatch',
				`layer:${chainId}`,
				`${db} parent is ${parent ?? 'absent'}, the image's chain says ${expectedParent ?? 'none (base layer)'}`,
				layerFile(store, chainId, 'parent'),
			),
		);
	}
	return layer.size ?? null;
}

/** Links every layer of the chain; the sum of their sizes, null when one is missing or unknown. */
function linkChain(
	ctx: Ctx,
	store: RawImageStore,
	img: RawImage,
	chain: readonly string[],
	subject: string,
): number | null {
	let size: number | null = 0;
	for (let i = 0; i < chain.length; i++) {
		const layerSize = linkChainLayer(ctx, store, img, chain, i, subject);
		if (size !== null) size = layerSize === null ? null : size + layerSize;
	}
	return size;
}

/** The image's history, each layer-making step given its chain id; says when the steps do not match the layers. */
function linkHistory(ctx: Ctx, img: RawImage, chain: readonly string[], subject: string): HistoryEntry[] {
	const history: HistoryEntry[] = [];
	let k = 0;
	for (const h of img.history) {
		const chainId = h.emptyLayer ? null : (chain[k++] ?? null);
		history.push({
			created: h.created ?? null,
			createdBy: h.createdBy ?? null,
			comment: h.comment ?? null,
			emptyLayer: h.emptyLayer,
			chainId,
		});
	}
	if (img.history.length > 0 && k !== chain.length) {
		ctx.findings.push(
			finding(
				'warning',
				'image.history-mismatch',
				subject,
				`history has ${k} layer-making steps for ${chain.length} layers`,
				img.path,
			),
		);
	}
	return history;
}

/** The image's parent id; says when the parent image is not in the store. */
function linkParentImage(ctx: Ctx, store: RawImageStore, img: RawImage, subject: string): string | null {
	const parent = img.parent ?? null;
	// Pre-1.10 the parent image is the layer below, and image.layer-missing already says it is gone.
	if (parent !== null && !store.images.has(parent) && store.layout !== 'v1') {
		ctx.findings.push(
			finding(
				'info',
				'image.parent-missing',
				subject,
				`parent image ${parent} is not in the store`,
				store.layout === 'containerd'
					? layerMeta(store, img.id)
					: `image/${store.driver}/imagedb/metadata/sha256/${img.id.slice(7)}/parent`,
			),
		);
	}
	return parent;
}

/** Whether an image is intermediate and whether it is dangling, from its references and children. */
function imageStanding(
	store: RawImageStore,
	refs: RawImageStoreRefs,
	kids: readonly string[],
): {intermediate: boolean; dangling: boolean} {
	// docker images --filter dangling=true: the graph-driver store (moby daemon/images/images.go) calls every
	// image without a tag dangling, a digest-only one (pulled by digest) included, children or not; the
	// containerd store names an image by any reference, and a digest reference is one: only an image with
	// no reference at all is dangling there. Untagged images without any reference and with children are intermediate.
	const unreferenced = refs.tags.length === 0 && refs.digests.length === 0;
	const dangling =
		store.layout === 'containerd'
			? unreferenced && kids.length === 0
			: refs.tags.length === 0 && (refs.digests.length > 0 || kids.length === 0);
	return {intermediate: unreferenced && kids.length > 0, dangling};
}

function linkImage(
	ctx: Ctx,
	store: RawImageStore,
	img: RawImage,
	children: Map<string, string[]>,
	tags: Map<string, RawImageStoreRefs>,
): Image {
	const subject = `image:${img.id}`;
	append(ctx.findings, img.findings);
	checkContentDigest(ctx, img, subject);
	// Pre-1.10: the chain is the image's parent links (graph/<id>/json), ids bottom first.
	const chain = img.layerIds ?? chainIds(img.diffIds);
	const size = linkChain(ctx, store, img, chain, subject);
	const history = linkHistory(ctx, img, chain, subject);
	const parent = linkParentImage(ctx, store, img, subject);
	const refs = tags.get(img.id) ?? {tags: [], digests: []};
	const kids = children.get(img.id) ?? [];
	const {intermediate, dangling} = imageStanding(store, refs, kids);
	return {
		id: img.id,
		driver: store.driver,
		tags: refs.tags,
		digests: refs.digests,
		created: img.created ?? null,
		diffIds: img.diffIds,
		chainIds: chain,
		parent,
		children: kids,
		intermediate,
		dangling,
		history,
		size: img.size ?? size,
		lastUpdated: img.lastUpdated ?? null,
		config: img.config ?? null,
		architecture: img.architecture ?? null,
		os: img.os ?? null,
		author: img.author ?? null,
		// As docker image inspect shows it (moby image inspect): the config's comment, else the last history entry's (docker commit -m, docker import -m).
		comment: img.comment !== undefined && img.comment !== '' ? img.comment : (img.history.at(-1)?.comment ?? null),
		container: img.container ?? null,
		containerConfig: img.containerConfig ?? null,
		dockerVersion: img.dockerVersion ?? null,
		containers: [],
		path: img.path,
	};
}

type RawImageStoreRefs = {tags: string[]; digests: string[]};

/** Walks layerdb parents from a chain id down to the base, guarding against loops and missing links. */
function walkLayers(ctx: Ctx, store: RawImageStore, top: string, subject: string): RawLayer[] {
	const out: RawLayer[] = [];
	const seen = new Set<string>();
	let id: string | undefined = top;
	while (id !== undefined) {
		if (seen.has(id) || out.length >= maxDepth) {
			ctx.findings.push(
				finding(
					'error',
					'layer.parent-loop',
					subject,
					`layer parents loop or run deeper than ${maxDepth} at ${id}`,
					layerFile(store, id, 'parent'),
				),
			);
			break;
		}
		seen.add(id);
		const layer = store.layers.get(id);
		if (layer === undefined) {
			ctx.findings.push(
				finding(
					'error',
					'container.layer-missing',
					subject,
					`layer ${id} of its chain is not in ${layerDb(store)}`,
					layerMeta(store, id),
				),
			);
			break;
		}
		out.push(layer);
		id = layer.parent;
	}
	return out;
}

/**
 * A container whose image is not in the store. `docker rmi -f` removes the image of a stopped
 * container and the daemon keeps its layers (the RW layer holds them): with its whole chain there
 * it still starts, so that is a warning; with a link of the chain broken as well, an error.
 */
function imageMissing(store: RawImageStore, subject: string, imageId: string, chainIntact: boolean): Finding {
	const path =
		store.layout === 'v1'
			? `graph/${imageId}`
			: store.layout === 'containerd'
				? layerMeta(store, imageId)
				: `image/${store.driver}/imagedb/content/sha256/${imageId.replace(/^sha256:/, '')}`;
	if (chainIntact) {
		return finding(
			'warning',
			'container.image-removed',
			subject,
			`its image ${imageId} is not in the image store: it was removed while the container kept it (docker rmi -f allows that for a container that is not running). Its layers are all there (RW, init and the image layers below its mount's parent), so it still starts; docker ps shows the image id, and the image cannot be used for new containers`,
			path,
		);
	}
	// Pre-1.10 an image is its own top layer: its chain is gone with it (no other finding needed to say so).
	const why = store.layout === 'v1' ? '' : ', and its layer chain is not intact either (see its other findings)';
	return finding(
		'error',
		'container.image-missing',
		subject,
		`its image ${imageId} is not in the image store${why}`,
		path,
	);
}

function pickStore(ctx: Ctx, c: RawContainer): RawImageStore | undefined {
	const subject = `container:${c.id}`;
	if (c.driver !== undefined) {
		const store = ctx.raw.stores.get(c.driver);
		if (store === undefined) {
			if (isDriverName(c.driver) && driverInfo(c.driver)?.containerd === true) {
				ctx.findings.push(
					finding(
						'error',
						'container.store-missing',
						subject,
						`its driver "${c.driver}" is a snapshotter of the containerd image store, which could not be read from this root (see the root's findings)`,
						'containerd/daemon/io.containerd.metadata.v1.bolt/meta.db',
					),
				);
			} else {
				ctx.findings.push(
					finding(
						'error',
						'container.store-missing',
						subject,
						`its driver "${c.driver}" has no image store (image/${c.driver}/)`,
						`image/${c.driver}`,
					),
				);
			}
		}
		return store;
	}
	// No driver recorded (damaged config): use the store that has its mount, if any.
	for (const store of ctx.raw.stores.values()) if (store.mounts.has(c.id)) return store;
	return undefined;
}

/** A store without the container's mount (layerdb/mounts entry or RW snapshot): its RW and init layers are unknown. */
function mountMissing(ctx: Ctx, store: RawImageStore, c: RawContainer): void {
	const subject = `container:${c.id}`;
	if (store.layout === 'containerd') {
		ctx.findings.push(
			finding(
				'error',
				'container.snapshot-missing',
				subject,
				`meta.db has no ${store.driver} snapshot keyed by its id (its RW snapshot): its RW and init layers are unknown`,
				layerMeta(store, c.id),
			),
		);
	} else {
		ctx.findings.push(
			finding(
				'error',
				'container.mount-missing',
				subject,
				'no layerdb/mounts entry: its RW and init layers are unknown',
				`image/${store.driver}/layerdb/mounts/${c.id}`,
			),
		);
	}
}

/** The container's RW and init layers, as its mount names them; a missing directory is a finding. */
function rwChain(
	ctx: Ctx,
	c: RawContainer,
	driver: string,
	mount: RawMount,
	store: RawImageStore | undefined,
): ChainEntry[] {
	const subject = `container:${c.id}`;
	const chain: ChainEntry[] = [];
	for (const [role, cacheId] of [
		['rw', mount.mountId],
		['init', mount.initId],
	] as const) {
		if (cacheId === undefined) continue;
		const exists = dirExists(ctx, driver, cacheId);
		if (!exists && isDriverName(driver)) {
			const miss = missingWhat(driver, cacheId, rwLayerPath(driver, cacheId));
			// docker rm deletes the RW and init layers before containers/<id>: an unfinished removal (check: container.removal-interrupted, container.dead) explains their absence.
			const removing = c.state?.removalInProgress === true || c.state?.dead === true;
			ctx.findings.push(
				removing
					? finding(
							'warning',
							'container.layer-dir-missing',
							subject,
							`its ${role === 'rw' ? 'RW' : 'init'} layer ${miss.what} is missing: deleted by its unfinished removal (State.${c.state?.removalInProgress === true ? 'RemovalInProgress' : 'Dead'}); \`docker rm\` finishes it`,
							miss.path,
						)
					: finding(
							'error',
							'container.layer-dir-missing',
							subject,
							`its ${role === 'rw' ? 'RW' : 'init'} layer ${miss.what} is missing`,
							miss.path,
						),
			);
		}
		const record = recordOf(ctx, driver, cacheId, subject, true);
		const damage = exists ? rwLayerDamage(ctx, driver, role, cacheId, subject) : undefined;
		chain.push({
			role,
			cacheId,
			path: rwLayerPath(driver, cacheId),
			pathExists: exists,
			...(damage !== undefined ? {contentDamage: damage} : {}),
			...(record !== undefined ? {driverRecord: record} : {}),
		});
	}
	if (
		store?.layout !== 'containerd' &&
		mount.mountId !== undefined &&
		mount.initId !== undefined &&
		mount.initId !== `${mount.mountId}-init`
	) {
		ctx.findings.push(
			finding('warning', 'mount.init-id-unusual', subject, `init-id is not "<mount-id>-init"`, `${mount.path}/init-id`),
		);
	}
	return chain;
}

/** The mount's parent against the image's top layer: a mismatch, or a parent missing though the image has layers, is a finding. */
function parentFindings(
	ctx: Ctx,
	subject: string,
	store: RawImageStore,
	mount: RawMount | undefined,
	image: Image | undefined,
): void {
	const parent = mount?.parent;
	// containerd: an image whose config could not be read has no diff ids; its content findings say why.
	if (
		parent !== undefined &&
		image !== undefined &&
		image.chainIds.at(-1) !== parent &&
		!(store.layout === 'containerd' && image.diffIds.length === 0)
	) {
		ctx.findings.push(
			finding(
				'error',
				'mount.parent-mismatch',
				subject,
				`mount parent ${parent} is not its image's top layer ${image.chainIds.at(-1) ?? '(none)'}`,
				store.layout === 'containerd' ? mount?.path : `${mount?.path}/parent`,
			),
		);
	}
	if (parent === undefined && mount !== undefined && image !== undefined && image.chainIds.length > 0) {
		ctx.findings.push(
			store.layout === 'containerd'
				? finding(
						'error',
						'mount.parent-missing',
						subject,
						'its init snapshot (or RW snapshot) has no parent though its image has layers',
						mount.path,
					)
				: finding(
						'error',
						'mount.parent-missing',
						subject,
						'layerdb/mounts has no parent file though its image has layers',
						`${mount.path}/parent`,
					),
		);
	}
}

/** The image layers under the container, from its mount's parent (or its image's top layer) down; each layer records it as a user. */
function imageChain(ctx: Ctx, c: RawContainer, store: RawImageStore, top: string, subject: string): ChainEntry[] {
	const chain: ChainEntry[] = [];
	for (const layer of walkLayers(ctx, store, top, subject)) {
		use(ctx.layerContainers, store.driver, layer.chainId, c.id);
		const record = recordOf(ctx, store.driver, layer.cacheId, `layer:${layer.chainId}`, false);
		const exists = dirExists(ctx, store.driver, layer.cacheId);
		const damage = exists ? imageLayerDamage(ctx, store, layer) : undefined;
		chain.push({
			role: 'image',
			cacheId: layer.cacheId ?? null,
			chainId: layer.chainId,
			diffId: layer.diffId ?? null,
			path: layerPath(store.driver, layer.cacheId),
			pathExists: exists,
			...(damage !== undefined ? {contentDamage: damage} : {}),
			...(record !== undefined ? {driverRecord: record} : {}),
		});
	}
	return chain;
}

function linkContainer(ctx: Ctx, c: RawContainer, images: Map<string, Image>): Container {
	const subject = `container:${c.id}`;
	append(ctx.findings, c.findings);
	const store = pickStore(ctx, c);
	const driver = c.driver ?? store?.driver ?? null;
	const mount = store?.mounts.get(c.id);
	if (store !== undefined && mount === undefined) mountMissing(ctx, store, c);
	if (mount !== undefined) append(ctx.findings, mount.findings);
	const chain: ChainEntry[] = driver !== null && mount !== undefined ? rwChain(ctx, c, driver, mount, store) : [];
	const imageId = c.image ?? null;
	const image = imageId === null ? undefined : images.get(`${store?.driver ?? ''}\0${imageId}`);
	const imageGone = imageId !== null && image === undefined && store !== undefined;
	const findingsBeforeChain = ctx.findings.length;
	if (c.hasConfig && imageId === null) {
		ctx.findings.push(
			finding(
				'error',
				'container.field-invalid',
				subject,
				`${c.path.endsWith('/config.json') ? 'config.json' : 'config.v2.json'} names no image`,
				c.path,
			),
		);
	}
	image?.containers.push(c.id);
	const parent = mount?.parent;
	if (store !== undefined && driver !== null) {
		const top = parent ?? image?.chainIds.at(-1);
		parentFindings(ctx, subject, store, mount, image);
		// Pre-1.10 the mount's parent is the image id itself: a missing image is already container.image-missing.
		if (top !== undefined && !(store.layout === 'v1' && image === undefined))
			append(chain, imageChain(ctx, c, store, top, subject));
	}
	if (imageGone)
		ctx.findings.push(
			imageMissing(
				store,
				subject,
				imageId,
				mount !== undefined &&
					parent !== undefined &&
					chain.some(e => e.role === 'image') &&
					chain.every(e => e.pathExists) &&
					!ctx.findings.slice(findingsBeforeChain).some(f => f.subject === subject && f.severity === 'error'),
			),
		);
	return containerOf(c, image, driver, mount, chain);
}

/** The linked container: what its files say, with its driver, mount and chain. */
function containerOf(
	c: RawContainer,
	image: Image | undefined,
	driver: string | null,
	mount: RawMount | undefined,
	chain: ChainEntry[],
): Container {
	const startedAt = realTime(c.state?.startedAt);
	const argv = c.processPath === undefined && c.args === undefined ? null : [c.processPath ?? '', ...(c.args ?? [])];
	return {
		id: c.id,
		name: c.name ?? null,
		imageId: c.image ?? null,
		imageRef: typeof c.config?.Image === 'string' ? c.config.Image : null,
		imageTags: image?.tags ?? [],
		status: c.state === undefined ? null : statusOf(c.state, startedAt),
		created: realTime(c.created),
		startedAt,
		finishedAt: realTime(c.state?.finishedAt),
		exitCode: c.state?.exitCode ?? null,
		error: c.state?.error ?? null,
		command: argv === null ? null : daemonCommand(c.processPath ?? '', c.args ?? []),
		argv,
		driver,
		mountId: mount?.mountId ?? null,
		initId: mount?.initId ?? null,
		parentChainId: mount?.parent ?? null,
		chain,
		config: c.config ?? null,
		hostConfig: c.hostConfig ?? null,
		mountPoints: c.mountPoints ?? null,
		stored: c.stored ?? null,
		path: `containers/${c.id}`,
	};
}

/**
 * A command line as the daemon shows it (moby daemon/list.go, the API's `Command`, `docker ps`'s COMMAND
 * inside its double quotes): Path, then each argument, one with a space wrapped in single quotes.
 */
function daemonCommand(path: string, args: readonly string[]): string {
	if (args.length === 0) return path;
	return `${path} ${args.map(a => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

function refsByImage(store: RawImageStore, ctx: Ctx): Map<string, RawImageStoreRefs> {
	const out = new Map<string, RawImageStoreRefs>();
	for (const r of store.refs) {
		if (!store.images.has(r.imageId) && store.images.size > 0) {
			ctx.findings.push(
				finding(
					'error',
					'ref.image-missing',
					`store:${store.driver}`,
					`${r.ref} points to ${r.imageId}, which is not in the image store`,
					store.layout === 'v1'
						? `repositories-${store.driver}`
						: store.layout === 'containerd'
							? layerMeta(store, r.imageId)
							: `image/${store.driver}/repositories.json`,
				),
			);
		}
		let e = out.get(r.imageId);
		if (e === undefined) out.set(r.imageId, (e = {tags: [], digests: []}));
		(r.ref.includes('@') ? e.digests : e.tags).push(r.ref);
	}
	for (const e of out.values()) {
		e.tags.sort(byString);
		e.digests.sort(byString);
	}
	return out;
}

/** Every store's images, linked (children, tags and digests), keyed by driver\0id. */
function linkImages(ctx: Ctx, raw: RawHost): Map<string, Image> {
	const images = new Map<string, Image>();
	for (const store of raw.stores.values()) {
		append(ctx.findings, store.findings);
		const children = new Map<string, string[]>();
		for (const img of store.images.values()) {
			if (img.parent === undefined) continue;
			const list = children.get(img.parent) ?? [];
			list.push(img.id);
			children.set(img.parent, list);
		}
		const refs = refsByImage(store, ctx);
		for (const img of store.images.values())
			images.set(`${store.driver}\0${img.id}`, linkImage(ctx, store, img, children, refs));
	}
	return images;
}

/** One layerdb layer linked: its directory, driver record, content damage, users and the history line that made it. */
function linkLayer(ctx: Ctx, store: RawImageStore, l: RawLayer, images: Map<string, Image>): Layer {
	append(ctx.findings, l.findings);
	const exists = dirExists(ctx, store.driver, l.cacheId);
	if (l.cacheId !== undefined && !exists && isDriverName(store.driver)) {
		const miss = missingWhat(store.driver, l.cacheId, layerPath(store.driver, l.cacheId));
		ctx.findings.push(
			finding(
				'error',
				'layer.dir-missing',
				`layer:${l.chainId}`,
				`its ${miss.what} in the driver is missing`,
				miss.path,
			),
		);
	}
	const record = recordOf(ctx, store.driver, l.cacheId, `layer:${l.chainId}`, true);
	const damage = exists ? imageLayerDamage(ctx, store, l) : undefined;
	const imageUsers = [...(ctx.layerImages.get(store.driver)?.get(l.chainId) ?? [])].sort(byString);
	let createdBy: string | null = null;
	for (const id of imageUsers) {
		const h = images.get(`${store.driver}\0${id}`)?.history.find(e => e.chainId === l.chainId);
		if (h?.createdBy) {
			createdBy = h.createdBy;
			break;
		}
	}
	return {
		chainId: l.chainId,
		diffId: l.diffId ?? null,
		parent: l.parent ?? null,
		cacheId: l.cacheId ?? null,
		size: l.size ?? null,
		driver: store.driver,
		path: layerPath(store.driver, l.cacheId),
		pathExists: exists,
		images: imageUsers,
		containers: [...(ctx.layerContainers.get(store.driver)?.get(l.chainId) ?? [])].sort(byString),
		createdBy,
		metaPath: l.path,
		distribution: distributionOf(store.distribution, l.diffId),
		...(damage !== undefined ? {contentDamage: damage} : {}),
		...(record !== undefined ? {driverRecord: record} : {}),
	};
}

/** Records no layer or container owns (orphans: layerlens check lists them) keep their findings under the store; the host's records as read. */
function hostDriverRecords(ctx: Ctx, raw: RawHost): HostDriverRecord[] {
	const driverRecords: HostDriverRecord[] = [];
	for (const d of raw.driverDirs.values()) {
		for (const [id, r] of d.records ?? [])
			if (!ctx.usedRecords.has(`${d.name}\0${id}`)) append(ctx.findings, r.findings);
		append(driverRecords, d.hostRecords ?? []);
	}
	return driverRecords;
}

/** Links what the readers found into one model: containers → RW → init → image layers → image. Pure; broken links become findings. */
export function link(raw: RawHost): Model {
	const ctx: Ctx = {
		raw,
		findings: [...raw.findings],
		layerImages: new Map(),
		layerContainers: new Map(),
		usedRecords: new Set(),
		damage: new Map(),
	};
	for (const d of raw.driverDirs.values()) append(ctx.findings, d.findings);
	const images = linkImages(ctx, raw);
	const containers = raw.containers.map(c => linkContainer(ctx, c, images));
	const containerIds = new Set(raw.containers.map(c => c.id));
	for (const store of raw.stores.values()) {
		for (const m of store.mounts.values()) {
			if (!containerIds.has(m.containerId)) {
				append(ctx.findings, m.findings);
			}
		}
	}
	const layers: Layer[] = [];
	for (const store of raw.stores.values())
		for (const l of store.layers.values()) layers.push(linkLayer(ctx, store, l, images));
	const driverRecords = hostDriverRecords(ctx, raw);
	const volumes = raw.volumes !== undefined ? linkVolumes(raw.volumes, raw.containers, ctx.findings) : undefined;
	const networks = raw.networks !== undefined ? linkNetworks(raw.networks, raw.containers, ctx.findings) : undefined;
	const buildCache = raw.buildCache !== undefined ? linkBuildCache(raw.buildCache, ctx.findings) : undefined;
	const drv = new Set<string>();
	for (const s of raw.stores.keys()) drv.add(s);
	for (const c of containers) if (c.driver !== null) drv.add(c.driver);
	const imageList = [...images.values()].sort((a, b) => byString(a.driver, b.driver) || byString(a.id, b.id));
	for (const img of imageList) img.containers.sort(byString);
	const model: Model = {
		root: raw.location,
		sourceKind: raw.sourceKind,
		layout: raw.layout,
		drivers: [...drv].sort(byString),
		images: imageList,
		layers: layers.sort((a, b) => byString(a.driver, b.driver) || byString(a.chainId, b.chainId)),
		containers: containers.sort((a, b) => byString(a.created ?? '', b.created ?? '') || byString(a.id, b.id)),
		...(volumes !== undefined ? {volumes} : {}),
		...(networks !== undefined ? {networks} : {}),
		...(raw.driverDirs.size > 0 ? {driverRecords} : {}),
		...(buildCache !== undefined ? {buildCache} : {}),
		findings: ctx.findings.sort(compareFindings),
	};
	indexesOf(model);
	return model;
}
