import {createHash} from 'node:crypto';
import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {
	type Read,
	digest,
	entryFindings,
	hex64,
	isPathId,
	mountIdRe,
	obj,
	readJson,
	readText,
	sourceErrorFinding,
	str,
	strArray,
	bool,
} from './json-files.ts';
import {type RawDistribution, readDistribution} from './distribution.ts';
import type {Source} from '../sources/source.ts';

export type RawHistory = {
	readonly created?: string;
	readonly createdBy?: string;
	readonly comment?: string;
	readonly emptyLayer: boolean;
};

export type RawImage = {
	/** 'sha256:<hex>', from the file name; pre-1.10 (graph/): the bare hex id the daemon used. */
	readonly id: string;
	/** Pre-1.10 only: the image's layer ids, bottom first (its parent links; the image's own id last). Replaces chain ids computed from diffIds. */
	readonly layerIds?: string[];
	readonly path: string;
	/** sha256 of the config file's exact bytes (equal to the id when intact). */
	readonly contentDigest?: string;
	readonly created?: string;
	readonly diffIds: string[];
	readonly history: RawHistory[];
	/** The image's `config` object (runtime defaults), as stored. */
	readonly config?: Record<string, unknown>;
	readonly architecture?: string;
	readonly os?: string;
	readonly dockerVersion?: string;
	/** `author`, `comment`, `container` and `container_config`: who made it and, for `docker commit`, the container it was committed from. */
	readonly author?: string;
	readonly comment?: string;
	readonly container?: string;
	readonly containerConfig?: Record<string, unknown>;
	/** imagedb/metadata/sha256/<hex>/parent */
	readonly parent?: string;
	/** imagedb/metadata/sha256/<hex>/lastUpdated */
	readonly lastUpdated?: string;
	/** containerd store: the size docker reports (its descriptors: index, manifest, config and compressed layers); else the sum of the layers' sizes. */
	readonly size?: number;
	/** containerd store: the content blobs read for it (index, manifest, config), with the sha256 of their bytes. */
	readonly blobs?: readonly RawBlob[];
	readonly findings: Finding[];
};

/** A content blob of the containerd store, as read: whether its file is there, and what its bytes hash to. */
export type RawBlob = {
	readonly role: 'index' | 'manifest' | 'config';
	readonly digest: string;
	readonly path: string;
	readonly present: boolean;
	/** 'sha256:<hex>' of the bytes read (equal to digest when intact). */
	readonly actual?: string;
};

export type RawLayer = {
	/** 'sha256:<hex>', from the directory name; pre-1.10 (graph/): the bare hex graph id. */
	readonly chainId: string;
	readonly path: string;
	readonly diffId?: string;
	readonly parent?: string;
	readonly cacheId?: string;
	readonly size?: number;
	/**
	 * containerd store: a committed snapshot that is no image's layer but lies in a layer's parent
	 * chain (the init snapshot of a build container a layer was committed on). It is mounted below
	 * that layer, so chains walk through it; an image's diff ids skip it.
	 */
	readonly snapshotOnly?: true;
	readonly findings: Finding[];
};

export type RawMount = {
	readonly containerId: string;
	readonly path: string;
	readonly mountId?: string;
	readonly initId?: string;
	readonly parent?: string;
	readonly findings: Finding[];
};

/** The containerd part of a store (layout 'containerd'). */
export type RawContainerdStore = {
	/** meta.db, relative to the root. */
	readonly metaDb: string;
	/** The snapshotter's own metadata.db, relative to the root. */
	readonly snapshotterDb: string;
	/** Directory ids (under the snapshotter's snapshots/) named by a record of the snapshotter's metadata.db, with that record's key and kind. */
	readonly snapshotIds: ReadonlyMap<string, {readonly key: string; readonly kind: string}>;
	/** meta.db snapshots of namespace moby for this snapshotter: key → backend key, parent key, directory id. */
	readonly snapshots: ReadonlyMap<
		string,
		{readonly name?: string; readonly parent?: string; readonly id?: string; readonly kind?: string}
	>;
	/** The snapshotter's metadata.db was read. */
	readonly snapshotterDbRead: boolean;
};

export type RawRef = {readonly repo: string; readonly ref: string; readonly imageId: string};

export type RawImageStore = {
	readonly driver: string;
	/**
	 * 'v1': synthesised from a pre-1.10 graph/ (src/read/graph-store.ts); 'containerd': from the
	 * containerd image store, one store per snapshotter (src/read/containerd/store.ts); absent for image/<driver>/.
	 */
	readonly layout?: 'v1' | 'containerd';
	/** layout 'containerd': what the checks need beyond images, layers and mounts. */
	readonly containerd?: RawContainerdStore;
	readonly refs: RawRef[];
	readonly images: Map<string, RawImage>;
	readonly layers: Map<string, RawLayer>;
	readonly mounts: Map<string, RawMount>;
	/** image/<driver>/distribution/: registry blobs and repositories per diff id (read with the layers). */
	readonly distribution?: RawDistribution;
	readonly findings: Finding[];
};

/** Reads image/<driver>/repositories.json: {"Repositories": {repo: {ref: imageId}}}. */
function readRepositories(source: Source, driver: string): Read<RawRef[]> {
	const path = `image/${driver}/repositories.json`;
	const subject = `store:${driver}`;
	// reference/store.go reload reads it with json.Decoder: the first value.
	const r = readJson(source, path, subject, 'repositories.json', {optional: true, firstValue: true});
	if (r.value === undefined) return {value: [], findings: r.findings};
	const findings: Finding[] = [...r.findings];
	const repos = obj(obj(r.value.json)?.Repositories);
	if (repos === undefined) {
		findings.push(finding('error', 'json.shape', subject, 'repositories.json has no "Repositories" object', path));
		return {value: [], findings};
	}
	const refs: RawRef[] = [];
	for (const [repo, entries] of Object.entries(repos)) {
		const map = obj(entries);
		if (map === undefined) {
			findings.push(finding('error', 'json.shape', subject, `repositories.json: "${repo}" is not an object`, path));
			continue;
		}
		for (const [ref, id] of Object.entries(map)) {
			if (typeof id !== 'string' || !digest.test(id)) {
				findings.push(
					finding('error', 'json.shape', subject, `repositories.json: "${ref}" does not point to an image id`, path),
				);
				continue;
			}
			refs.push({repo, ref, imageId: id});
		}
	}
	return {value: refs, findings};
}

/** Reads image/<driver>/imagedb/content/sha256/<hex> (the image config) and imagedb/metadata/sha256/<hex>/{parent,lastUpdated}. */
function readImage(source: Source, driver: string, hex: string, hasMetadata = true): RawImage {
	const id = `sha256:${hex}`;
	const subject = `image:${id}`;
	const path = `image/${driver}/imagedb/content/sha256/${hex}`;
	const findings: Finding[] = [];
	const meta = `image/${driver}/imagedb/metadata/sha256/${hex}`;
	const none: Read<string> = {value: undefined, findings: []};
	const parent = hasMetadata ? readText(source, `${meta}/parent`, subject, 'image parent', {optional: true}) : none;
	const lastUpdated = hasMetadata
		? readText(source, `${meta}/lastUpdated`, subject, 'image lastUpdated', {optional: true})
		: none;
	append(findings, parent.findings, lastUpdated.findings);
	if (parent.value !== undefined && !digest.test(parent.value)) {
		findings.push(
			finding('error', 'image.parent-invalid', subject, 'metadata parent is not an image id', `${meta}/parent`),
		);
	}
	const base = {
		id,
		path,
		...(parent.value !== undefined && digest.test(parent.value) ? {parent: parent.value} : {}),
		...(lastUpdated.value !== undefined ? {lastUpdated: lastUpdated.value} : {}),
	};
	const r = readJson(source, path, subject, 'image config');
	append(findings, r.findings);
	if (r.value === undefined) return {...base, diffIds: [], history: [], findings};
	const contentDigest = `sha256:${createHash('sha256').update(r.value.bytes).digest('hex')}`;
	const json = obj(r.value.json);
	if (json === undefined) {
		findings.push(finding('error', 'json.shape', subject, 'image config is not a JSON object', path));
		return {...base, contentDigest, diffIds: [], history: [], findings};
	}
	const fields = configFields(json, subject, path, findings);
	return {...base, contentDigest, ...fields, findings};
}

/** An image config's fields (the reference layout notes §1.3): rootfs.diff_ids, history and the runtime defaults. Shared by every image store. */
export function configFields(
	json: Record<string, unknown>,
	subject: string,
	path: string,
	findings: Finding[],
): Pick<
	RawImage,
	| 'diffIds'
	| 'history'
	| 'created'
	| 'config'
	| 'architecture'
	| 'os'
	| 'dockerVersion'
	| 'author'
	| 'comment'
	| 'container'
	| 'containerConfig'
> {
	const rootfs = obj(json.rootfs);
	const rawDiffIds = rootfs?.diff_ids ?? [];
	let diffIds = strArray(rawDiffIds) ?? [];
	if (strArray(rawDiffIds) === undefined || diffIds.some(d => !digest.test(d))) {
		findings.push(
			finding('error', 'image.diff-ids-invalid', subject, 'rootfs.diff_ids is not a list of sha256 digests', path),
		);
		diffIds = diffIds.filter(d => digest.test(d));
	}
	const history: RawHistory[] = [];
	const rawHistory = json.history;
	if (Array.isArray(rawHistory)) {
		for (const h of rawHistory) {
			const e = obj(h);
			if (e === undefined) continue;
			const created = str(e.created);
			const createdBy = str(e.created_by);
			const comment = str(e.comment);
			history.push({
				...(created !== undefined ? {created} : {}),
				...(createdBy !== undefined ? {createdBy} : {}),
				...(comment !== undefined ? {comment} : {}),
				emptyLayer: bool(e.empty_layer) ?? false,
			});
		}
	}
	const created = str(json.created);
	const config = obj(json.config);
	const architecture = str(json.architecture);
	const os = str(json.os);
	const dockerVersion = str(json.docker_version);
	const author = str(json.author);
	const comment = str(json.comment);
	const container = str(json.container);
	const containerConfig = obj(json.container_config);
	return {
		diffIds,
		history,
		...(created !== undefined ? {created} : {}),
		...(config !== undefined ? {config} : {}),
		...(architecture !== undefined ? {architecture} : {}),
		...(os !== undefined ? {os} : {}),
		...(dockerVersion !== undefined ? {dockerVersion} : {}),
		...(author !== undefined ? {author} : {}),
		...(comment !== undefined ? {comment} : {}),
		...(container !== undefined ? {container} : {}),
		...(containerConfig !== undefined ? {containerConfig} : {}),
	};
}

/** ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256("<ChainID(L0..Ln-1)> <DiffID(Ln)>") (the reference layout notes §1.6). */
export function chainIds(diffIds: readonly string[]): string[] {
	const out: string[] = [];
	let prev: string | undefined;
	for (const d of diffIds) {
		prev = prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`;
		out.push(prev);
	}
	return out;
}

/** Reads image/<driver>/layerdb/sha256/<chain-hex>/{diff,cache-id,size,parent}. */
function readLayer(source: Source, driver: string, hex: string): RawLayer {
	const chainId = `sha256:${hex}`;
	const subject = `layer:${chainId}`;
	const path = `image/${driver}/layerdb/sha256/${hex}`;
	const diff = readText(source, `${path}/diff`, subject, 'layer diff id');
	const cacheId = readText(source, `${path}/cache-id`, subject, 'layer cache id');
	const size = readText(source, `${path}/size`, subject, 'layer size', {optional: true});
	const parent = readText(source, `${path}/parent`, subject, 'layer parent', {optional: true});
	const findings = [...diff.findings, ...cacheId.findings, ...size.findings, ...parent.findings];
	const valid = (v: string | undefined, ok: (v: string) => boolean, file: string, what: string): string | undefined => {
		if (v === undefined) return undefined;
		if (ok(v)) return v;
		findings.push(
			finding(
				'error',
				'layer.field-invalid',
				subject,
				`${file} does not hold ${what} (it holds ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v)}); no path is built from it`,
				`${path}/${file}`,
			),
		);
		return undefined;
	};
	const diffId = valid(diff.value, v => digest.test(v), 'diff', 'a sha256 digest');
	const cache = valid(cacheId.value, isPathId, 'cache-id', 'a directory id (one path component, not . or ..)');
	const parentId = valid(parent.value, v => digest.test(v), 'parent', 'a chain id');
	let sizeValue: number | undefined;
	if (size.value !== undefined) {
		if (/^\d{1,16}$/.test(size.value) && Number.isSafeInteger(Number(size.value))) sizeValue = Number(size.value);
		else
			findings.push(
				finding(
					'warning',
					'layer.field-invalid',
					subject,
					`size is not a number of bytes up to 2^53 (${JSON.stringify(size.value.slice(0, 40))})`,
					`${path}/size`,
				),
			);
	}
	return {
		chainId,
		path,
		...(diffId !== undefined ? {diffId} : {}),
		...(cache !== undefined ? {cacheId: cache} : {}),
		...(parentId !== undefined ? {parent: parentId} : {}),
		...(sizeValue !== undefined ? {size: sizeValue} : {}),
		findings,
	};
}

/** Reads image/<driver>/layerdb/mounts/<container-id>/{mount-id,init-id,parent}. */
function readMount(source: Source, driver: string, containerId: string): RawMount {
	const subject = `container:${containerId}`;
	const path = `image/${driver}/layerdb/mounts/${containerId}`;
	const mountId = readText(source, `${path}/mount-id`, subject, 'mount-id');
	const initId = readText(source, `${path}/init-id`, subject, 'init-id', {optional: true});
	const parent = readText(source, `${path}/parent`, subject, 'mount parent', {optional: true});
	const findings = [...mountId.findings, ...initId.findings, ...parent.findings];
	const check = (v: string | undefined, re: RegExp, file: string): string | undefined => {
		if (v === undefined) return undefined;
		if (re.test(v)) return v;
		const what =
			re === digest
				? 'a chain id'
				: 'a valid id (64 hex digits, then -init for an init layer: dockerd refuses anything else)';
		findings.push(
			finding(
				'error',
				'mount.field-invalid',
				subject,
				`${file} does not hold ${what} (it holds ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v)}); no path is built from it`,
				`${path}/${file}`,
			),
		);
		return undefined;
	};
	const m = check(mountId.value, mountIdRe, 'mount-id');
	const i = check(initId.value, mountIdRe, 'init-id');
	const p = check(parent.value, digest, 'parent');
	return {
		containerId,
		path,
		...(m !== undefined ? {mountId: m} : {}),
		...(i !== undefined ? {initId: i} : {}),
		...(p !== undefined ? {parent: p} : {}),
		findings,
	};
}

/** Lists a directory of hex-named entries, with a finding for each entry that does not belong. */
function listHexDirs(
	source: Source,
	dir: string,
	subject: string,
	want: 'dir' | 'file',
	findings: Finding[],
): string[] {
	const listed = source.list(dir);
	if (!listed.ok) {
		if (listed.error.code !== 'missing') findings.push(sourceErrorFinding(listed.error, subject, dir));
		return [];
	}
	const out: string[] = [];
	const strays = entryFindings(findings, subject, dir);
	for (const e of listed.value) {
		if (!hex64.test(e.name)) {
			strays.add(
				finding('warning', 'entry.unexpected', subject, `unexpected entry "${e.name}" in ${dir}`, `${dir}/${e.name}`),
			);
			continue;
		}
		if (e.kind !== want) {
			const code = e.kind === 'symlink' ? 'file.symlink' : want === 'dir' ? 'file.not-a-dir' : 'file.not-a-file';
			strays.add(
				finding(
					'error',
					code,
					subject,
					`${dir}/${e.name} is a ${e.kind}, not a ${want === 'dir' ? 'directory' : 'file'}`,
					`${dir}/${e.name}`,
				),
			);
			continue;
		}
		out.push(e.name);
	}
	strays.done();
	return out;
}

/** Which parts of a store to read; `ls` needs only the references. */
export type StoreParts = {readonly images: boolean; readonly layers: boolean; readonly mounts: boolean};

/** Reads one image store, image/<driver>/. */
export function readImageStore(
	source: Source,
	driver: string,
	parts: StoreParts = {images: true, layers: true, mounts: true},
): RawImageStore {
	const subject = `store:${driver}`;
	const findings: Finding[] = [];
	const refs = readRepositories(source, driver);
	append(findings, refs.findings);
	const images = new Map<string, RawImage>();
	const layers = new Map<string, RawLayer>();
	const mounts = new Map<string, RawMount>();
	if (parts.images) {
		// Most images have no metadata directory: list it once instead of failing to open files in it.
		const withMetadata = new Set(
			listHexDirs(source, `image/${driver}/imagedb/metadata/sha256`, subject, 'dir', findings),
		);
		for (const hex of listHexDirs(source, `image/${driver}/imagedb/content/sha256`, subject, 'file', findings)) {
			images.set(`sha256:${hex}`, readImage(source, driver, hex, withMetadata.has(hex)));
		}
	}
	if (parts.layers) {
		const dir = `image/${driver}/layerdb/sha256`;
		const listed = source.list(dir);
		if (listed.ok) {
			const strays = entryFindings(findings, subject, dir);
			for (const e of listed.value) {
				if (hex64.test(e.name) && e.kind === 'dir') layers.set(`sha256:${e.name}`, readLayer(source, driver, e.name));
				else if (e.name.endsWith('-removing')) {
					strays.add(
						finding('warning', 'layer.removing', subject, `layer removal in progress: ${e.name}`, `${dir}/${e.name}`),
					);
				} else {
					strays.add(
						finding(
							'warning',
							'entry.unexpected',
							subject,
							`unexpected entry "${e.name}" in ${dir}`,
							`${dir}/${e.name}`,
						),
					);
				}
			}
			strays.done();
		} else if (listed.error.code !== 'missing') findings.push(sourceErrorFinding(listed.error, subject, dir));
	}
	if (parts.mounts) {
		for (const id of listHexDirs(source, `image/${driver}/layerdb/mounts`, subject, 'dir', findings)) {
			mounts.set(id, readMount(source, driver, id));
		}
	}
	let distribution: RawDistribution | undefined;
	if (parts.layers) {
		distribution = readDistribution(source, driver);
		append(findings, distribution.findings);
	}
	return {
		driver,
		refs: refs.value ?? [],
		images,
		layers,
		mounts,
		...(distribution !== undefined ? {distribution} : {}),
		findings,
	};
}
