import type {Finding} from '../finding.ts';
import type {Container, DriverRecord, HostDriverRecord, Image, Layer, Model, Network, Volume} from '../model/types.ts';
import type {Resolved, ResolvedAny} from '../model/resolve.ts';
import {layersTopDown} from '../model/ids.ts';
import {driverKey, indexesOf, layerByChainId} from '../model/indexes.ts';

/**
 * The JSON contract (schema 1). These DTOs are what scripts depend on: they are built here,
 * apart from the model, so that the model can change without breaking them. Documented in the README.
 */
export const schema = 1;

export function findingJson(f: Finding) {
	return {
		severity: f.severity,
		code: f.code,
		subject: f.subject,
		...(f.path !== undefined ? {path: f.path} : {}),
		message: f.message,
	};
}

function imageJson(i: Image) {
	return {
		id: i.id,
		tags: i.tags,
		digests: i.digests,
		created: i.created,
		diffIds: i.diffIds,
		chainIds: i.chainIds,
		parent: i.parent,
		intermediate: i.intermediate,
		dangling: i.dangling,
		history: i.history.map(h => ({
			created: h.created,
			createdBy: h.createdBy,
			emptyLayer: h.emptyLayer,
			chainId: h.chainId,
		})),
		driver: i.driver,
		size: i.size,
		children: i.children,
		containers: i.containers,
	};
}

/** A driver's record of a layer (devicemapper device record, btrfs quota, windowsfilter layer chain, zfs dataset). */
function driverRecordJson(r: DriverRecord) {
	return {path: r.path, fields: r.fields, ...(r.note !== undefined ? {note: r.note} : {})};
}

/** A driver's record of itself (devicemapper's device set and pool files). */
function hostDriverRecordJson(r: HostDriverRecord) {
	return {driver: r.driver, what: r.what, ...driverRecordJson(r)};
}

function layerJson(l: Layer) {
	return {
		chainId: l.chainId,
		diffId: l.diffId,
		parent: l.parent,
		cacheId: l.cacheId,
		size: l.size,
		driver: l.driver,
		path: l.path,
		images: l.images,
		containers: l.containers,
		distribution: l.distribution ?? [],
		...(l.contentDamage !== undefined ? {contentDamage: l.contentDamage} : {}),
		...(l.driverRecord !== undefined ? {driverRecord: driverRecordJson(l.driverRecord)} : {}),
	};
}

function chainJson(c: Container) {
	return c.chain.map(e => ({
		role: e.role,
		cacheId: e.cacheId,
		...(e.chainId !== undefined ? {chainId: e.chainId} : {}),
		...(e.diffId !== undefined ? {diffId: e.diffId} : {}),
		path: e.path,
		...(e.contentDamage !== undefined ? {contentDamage: e.contentDamage} : {}),
		...(e.driverRecord !== undefined ? {driverRecord: driverRecordJson(e.driverRecord)} : {}),
	}));
}

function containerJson(c: Container) {
	return {
		id: c.id,
		name: c.name,
		imageId: c.imageId,
		imageRef: c.imageRef,
		status: c.status,
		created: c.created,
		startedAt: c.startedAt,
		finishedAt: c.finishedAt,
		exitCode: c.exitCode,
		driver: c.driver,
		mountId: c.mountId,
		initId: c.initId,
		parentChainId: c.parentChainId,
		chain: chainJson(c),
		command: c.command,
		argv: c.argv ?? null,
		imageTags: c.imageTags,
	};
}

function volumeJson(v: Volume) {
	return {
		name: v.name,
		driver: v.driver,
		labels: v.labels,
		options: v.options,
		inDb: v.inDb,
		path: v.path,
		dataPath: v.dataPath,
		size: v.size,
		fileCount: v.fileCount,
		dataModified: v.dataModified,
		mounts: v.mounts.map(m => ({
			containerId: m.containerId,
			containerName: m.containerName,
			destination: m.destination,
			rw: m.rw,
		})),
	};
}

function networkJson(n: Network) {
	return {
		id: n.id,
		name: n.name,
		driver: n.driver,
		scope: n.scope,
		internal: n.internal,
		ipv6: n.ipv6,
		created: n.created,
		labels: n.labels,
		subnets: n.subnets.map(s => ({subnet: s.subnet, gateway: s.gateway})),
		bridgeName: n.bridgeName,
		containers: n.containers.map(a => ({
			containerId: a.containerId,
			containerName: a.containerName,
			endpointId: a.endpointId,
			ipAddress: a.ipAddress,
			macAddress: a.macAddress,
			source: a.source,
		})),
	};
}

/** --containerd-root: where the paths under `shownAs` (containerd/daemon) really are; null without the option. */
function containerdRootJson(m: Model) {
	const c = m.containerdRoot;
	return c === undefined ? null : {location: c.location, kind: c.kind, shownAs: c.shownAs};
}

/** `layerlens model`: everything. */
export function modelJson(m: Model) {
	return {
		schema,
		root: m.root,
		containerdRoot: containerdRootJson(m),
		layout: m.layout,
		drivers: m.drivers,
		images: m.images.map(imageJson),
		layers: m.layers.map(layerJson),
		containers: m.containers.map(containerJson),
		volumes: (m.volumes ?? []).map(volumeJson),
		networks: (m.networks ?? []).map(networkJson),
		driverRecords: (m.driverRecords ?? []).map(hostDriverRecordJson),
		buildCache: m.buildCache ?? null,
		findings: m.findings.map(findingJson),
	};
}

/** `layerlens ls --json`: one object per container, newest first like docker ps -a. */
export function lsJson(containers: readonly Container[]) {
	return containers.map(c => ({
		id: c.id,
		name: c.name,
		image: c.imageRef,
		imageId: c.imageId,
		command: c.command,
		argv: c.argv ?? null,
		created: c.created,
		status: c.status,
		startedAt: c.startedAt,
		finishedAt: c.finishedAt,
		exitCode: c.exitCode,
	}));
}

/** `layerlens images --json`. */
export function imagesJson(images: readonly Image[]) {
	return images.map(i => ({
		id: i.id,
		tags: i.tags,
		digests: i.digests,
		created: i.created,
		size: i.size,
		parent: i.parent,
		intermediate: i.intermediate,
		dangling: i.dangling,
		driver: i.driver,
		containers: i.containers,
	}));
}

/** `layerlens tree --json`: the containers shown, each with its chain and image, then images without containers. */
export function treeJson(m: Model, containers: readonly Container[], images: readonly Image[]) {
	const {imageByKey} = indexesOf(m);
	return {
		schema,
		root: m.root,
		containerdRoot: containerdRootJson(m),
		containers: containers.map(c => {
			const img = c.imageId === null ? undefined : imageByKey.get(driverKey(c.driver, c.imageId));
			return {...containerJson(c), image: img === undefined ? null : {id: img.id, tags: img.tags}};
		}),
		images: images.map(i => ({
			id: i.id,
			tags: i.tags,
			intermediate: i.intermediate,
			dangling: i.dangling,
			layers: layersTopDown(i),
		})),
		findings: m.findings.filter(f => subjects(containers, images).has(f.subject)).map(findingJson),
	};
}

export function subjects(containers: readonly Container[], images: readonly Image[]): Set<string> {
	const s = new Set<string>();
	for (const c of containers) {
		s.add(`container:${c.id}`);
		for (const e of c.chain) if (e.chainId !== undefined) s.add(`layer:${e.chainId}`);
	}
	for (const i of images) {
		s.add(`image:${i.id}`);
		for (const id of i.chainIds) s.add(`layer:${id}`);
	}
	return s;
}

/** `layerlens inspect REF`: the object in full (including the stored configs) with its findings. */
export function inspectJson(m: Model, r: Resolved) {
	const subject =
		r.kind === 'container'
			? `container:${r.container.id}`
			: r.kind === 'image'
				? `image:${r.image.id}`
				: `layer:${r.layer.chainId}`;
	const findings = m.findings.filter(f => f.subject === subject).map(findingJson);
	if (r.kind === 'container') {
		const c = r.container;
		return {
			kind: 'container',
			...containerJson(c),
			error: c.error,
			config: c.config,
			hostConfig: c.hostConfig,
			mountPoints: c.mountPoints,
			stored: c.stored ?? null,
			path: c.path,
			findings,
		};
	}
	if (r.kind === 'image') {
		const i = r.image;
		return {
			kind: 'image',
			...imageJson(i),
			lastUpdated: i.lastUpdated,
			architecture: i.architecture,
			os: i.os,
			author: i.author ?? null,
			comment: i.comment ?? null,
			container: i.container ?? null,
			containerConfig: i.containerConfig ?? null,
			dockerVersion: i.dockerVersion ?? null,
			// Per layer, bottom first: the compressed blobs and repositories image/<driver>/distribution/ records.
			distribution: i.chainIds.map(id => ({chainId: id, blobs: layerByChainId(m, id, i.driver)?.distribution ?? []})),
			config: i.config,
			path: i.path,
			findings,
		};
	}
	return {kind: 'layer', ...layerJson(r.layer), createdBy: r.layer.createdBy, metaPath: r.layer.metaPath, findings};
}

/** `layerlens inspect REF` for any object, volumes and networks included (see resolveAnyRef). */
export function inspectAnyJson(m: Model, r: ResolvedAny) {
	if (r.kind === 'volume') {
		const findings = m.findings.filter(f => f.subject === `volume:${r.volume.name}`).map(findingJson);
		return {kind: 'volume', ...volumeJson(r.volume), opts: r.volume.opts, findings};
	}
	if (r.kind === 'network') {
		const findings = m.findings.filter(f => f.subject === `network:${r.network.id}`).map(findingJson);
		return {
			kind: 'network',
			...networkJson(r.network),
			attachable: r.network.attachable,
			ipamDriver: r.network.ipamDriver,
			findings,
		};
	}
	return inspectJson(m, r);
}
