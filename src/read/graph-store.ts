import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {
	type Read,
	entryFindings,
	hex64,
	intField,
	obj,
	readJson,
	readText,
	sourceErrorFinding,
	str,
	strArray,
} from './json-files.ts';
import type {RawHistory, RawImage, RawImageStore, RawLayer, RawMount, RawRef, StoreParts} from './image-store.ts';
import type {Source} from '../sources/source.ts';

/**
 * The pre-1.10 layout (Docker ≤ 1.9), read into the same raw shapes as image/<driver>/
 * (the reference layout notes §2; moby@v1.9.1 graph/graph.go, graph/tags.go, daemon/daemon.go):
 * - graph/<id>/{json,layersize,checksum,tar-data.json.gz}: one image = one layer, id = random hex64
 *   (not a content digest), `parent` in json links it to the layer below;
 * - repositories-<driver>: {"Repositories": {repo: {tag | "sha256:…": "<bare hex id>"}}};
 * - a container's RW and init layers are the driver directories `<container id>` and `<container id>-init`.
 * Images and layers are keyed by the bare id; a layer's cache id is the id itself.
 */

/** The longest parent chain followed (the v1 graph had a limit of 127 layers). */
const maxDepth = 256;

type GraphEntry = {
	readonly id: string;
	readonly path: string;
	readonly parent?: string;
	readonly created?: string;
	readonly createdBy?: string;
	readonly comment?: string;
	readonly config?: Record<string, unknown>;
	readonly architecture?: string;
	readonly os?: string;
	readonly dockerVersion?: string;
	readonly size?: number;
	/** json could be read and parsed. */
	readonly ok: boolean;
	readonly findings: Finding[];
	readonly layerFindings: Finding[];
};

/** Reads repositories-<driver>: bare tags become `repo:tag`, digest keys `repo@sha256:…`; values are bare hex ids. */
function readV1Repositories(source: Source, driver: string): Read<RawRef[]> {
	const path = `repositories-${driver}`;
	const subject = `store:${driver}`;
	const r = readJson(source, path, subject, path, {optional: true});
	if (r.value === undefined) return {value: [], findings: r.findings};
	const findings: Finding[] = [...r.findings];
	const repos = obj(obj(r.value.json)?.Repositories);
	if (repos === undefined)
		return {
			value: [],
			findings: [...findings, finding('error', 'json.shape', subject, `${path} has no "Repositories" object`, path)],
		};
	const refs: RawRef[] = [];
	for (const [repo, entries] of Object.entries(repos)) {
		const map = obj(entries);
		if (map === undefined) {
			findings.push(finding('error', 'json.shape', subject, `${path}: "${repo}" is not an object`, path));
			continue;
		}
		for (const [key, id] of Object.entries(map)) {
			if (typeof id !== 'string' || !hex64.test(id)) {
				findings.push(
					finding('error', 'json.shape', subject, `${path}: "${repo}" "${key}" does not point to an image id`, path),
				);
				continue;
			}
			refs.push({repo, ref: key.startsWith('sha256:') ? `${repo}@${key}` : `${repo}:${key}`, imageId: id});
		}
	}
	return {value: refs, findings};
}

function readEntry(source: Source, id: string): GraphEntry {
	const subject = `image:${id}`;
	const dir = `graph/${id}`;
	const path = `${dir}/json`;
	const findings: Finding[] = [];
	const layerFindings: Finding[] = [];
	const size = readText(source, `${dir}/layersize`, `layer:${id}`, 'layersize', {optional: true});
	append(layerFindings, size.findings);
	let sizeValue: number | undefined;
	if (size.value !== undefined) {
		if (/^\d{1,16}$/.test(size.value) && Number.isSafeInteger(Number(size.value))) sizeValue = Number(size.value);
		else
			layerFindings.push(
				finding(
					'warning',
					'layer.field-invalid',
					`layer:${id}`,
					`layersize is not a number of bytes up to 2^53 (${JSON.stringify(size.value.slice(0, 40))})`,
					`${dir}/layersize`,
				),
			);
	}
	const r = readJson(source, path, subject, 'v1 image json');
	append(findings, r.findings);
	const json = r.value === undefined ? undefined : obj(r.value.json);
	if (r.value !== undefined && json === undefined)
		findings.push(finding('error', 'json.shape', subject, 'v1 image json is not a JSON object', path));
	if (json === undefined)
		return {id, path, ok: false, ...(sizeValue !== undefined ? {size: sizeValue} : {}), findings, layerFindings};
	const jsonId = str(json.id);
	if (jsonId !== undefined && jsonId !== id)
		findings.push(
			finding('error', 'image.id-mismatch', subject, `json says its id is ${jsonId}, not the directory name`, path),
		);
	const rawParent = json.parent;
	let parent: string | undefined;
	if (rawParent !== undefined && rawParent !== null && rawParent !== '') {
		if (typeof rawParent === 'string' && hex64.test(rawParent)) parent = rawParent;
		else findings.push(finding('error', 'image.parent-invalid', subject, 'json: parent is not an image id', path));
	}
	const cc = obj(json.container_config);
	const cmd = strArray(cc?.Cmd);
	const created = str(json.created);
	const comment = str(json.comment);
	const config = obj(json.config);
	const architecture = str(json.architecture);
	const os = str(json.os);
	const dockerVersion = str(json.docker_version);
	if (sizeValue === undefined) {
		const s = intField(json.Size, r.value!.numbers, ['Size'], {min: 0, max: Number.MAX_SAFE_INTEGER});
		if (s.value !== undefined) sizeValue = s.value;
		else if (s.invalid !== undefined)
			layerFindings.push(
				finding(
					'warning',
					'layer.field-invalid',
					`layer:${id}`,
					`json: Size is ${s.invalid}, not a number of bytes up to 2^53`,
					path,
				),
			);
	}
	return {
		id,
		path,
		ok: true,
		...(parent !== undefined ? {parent} : {}),
		...(created !== undefined ? {created} : {}),
		...(cmd !== undefined && cmd.length > 0 ? {createdBy: cmd.join(' ')} : {}),
		...(comment !== undefined && comment !== '' ? {comment} : {}),
		...(config !== undefined ? {config} : {}),
		...(architecture !== undefined ? {architecture} : {}),
		...(os !== undefined ? {os} : {}),
		...(dockerVersion !== undefined ? {dockerVersion} : {}),
		...(sizeValue !== undefined ? {size: sizeValue} : {}),
		findings,
		layerFindings,
	};
}

/** Lists graph/: one directory per image id; `_tmp` is the daemon's scratch space. */
function listGraph(source: Source, subject: string, findings: Finding[]): string[] {
	const listed = source.list('graph');
	if (!listed.ok) {
		findings.push(sourceErrorFinding(listed.error, subject, 'graph directory'));
		return [];
	}
	const ids: string[] = [];
	const strays = entryFindings(findings, subject, 'graph');
	for (const e of listed.value) {
		if (e.name === '_tmp' && e.kind === 'dir') continue;
		if (!hex64.test(e.name)) {
			strays.add(
				finding('warning', 'entry.unexpected', subject, `unexpected entry "${e.name}" in graph/`, `graph/${e.name}`),
			);
			continue;
		}
		if (e.kind !== 'dir') {
			const code = e.kind === 'symlink' ? 'file.symlink' : 'file.not-a-dir';
			findings.push(
				finding('error', code, `image:${e.name}`, `graph/${e.name} is a ${e.kind}, not a directory`, `graph/${e.name}`),
			);
			continue;
		}
		ids.push(e.name);
	}
	strays.done();
	return ids;
}

/** Walks parent links from an image down to the base: its layer ids, bottom first. A missing parent stays in the list (as the bottom) so the link can name it. */
function layerIdsOf(id: string, entries: ReadonlyMap<string, GraphEntry>, findings: Finding[]): string[] {
	const out: string[] = [];
	const seen = new Set<string>();
	let at: string | undefined = id;
	while (at !== undefined) {
		if (seen.has(at) || out.length >= maxDepth) {
			findings.push(
				finding(
					'error',
					'layer.parent-loop',
					`image:${id}`,
					`parent links loop or run deeper than ${maxDepth} at ${at}`,
					`graph/${at}/json`,
				),
			);
			break;
		}
		seen.add(at);
		out.push(at);
		const e = entries.get(at);
		if (e === undefined) break;
		at = e.parent;
	}
	return out.reverse();
}

/** Reads graph/ and repositories-<driver> into a store shaped like image/<driver>/ (layout 'v1'). Mounts are added per container by the caller. */
export function readGraphStore(source: Source, driver: string, parts: StoreParts): RawImageStore {
	const subject = `store:${driver}`;
	const findings: Finding[] = [];
	const refs = readV1Repositories(source, driver);
	append(findings, refs.findings);
	const images = new Map<string, RawImage>();
	const layers = new Map<string, RawLayer>();
	const mounts = new Map<string, RawMount>();
	if (parts.images || parts.layers) {
		const entries = new Map<string, GraphEntry>();
		let migrated = 0;
		for (const id of listGraph(source, subject, findings)) {
			entries.set(id, readEntry(source, id));
			if (source.stat(`graph/${id}/.migration-diffid`).ok) migrated++;
		}
		if (migrated > 0) {
			findings.push(
				finding(
					'info',
					'layout.v1-migration-partial',
					subject,
					`${migrated} graph entr${migrated === 1 ? 'y has' : 'ies have'} .migration-* files: a 1.10+ daemon started migrating this root, but no image/ store is here`,
					'graph',
				),
			);
		}
		for (const e of entries.values()) {
			if (parts.layers) {
				layers.set(e.id, {
					chainId: e.id,
					path: `graph/${e.id}`,
					cacheId: e.id,
					...(e.parent !== undefined ? {parent: e.parent} : {}),
					...(e.size !== undefined ? {size: e.size} : {}),
					findings: e.layerFindings,
				});
			}
			if (!parts.images) continue;
			const imgFindings = [...e.findings];
			const layerIds = e.ok ? layerIdsOf(e.id, entries, imgFindings) : [e.id];
			const history: RawHistory[] = [];
			for (const lid of layerIds) {
				const l = entries.get(lid);
				if (l === undefined) continue;
				history.push({
					...(l.created !== undefined ? {created: l.created} : {}),
					...(l.createdBy !== undefined ? {createdBy: l.createdBy} : {}),
					...(l.comment !== undefined ? {comment: l.comment} : {}),
					emptyLayer: false,
				});
			}
			images.set(e.id, {
				id: e.id,
				path: e.path,
				diffIds: [],
				layerIds,
				// History only when every layer's json was there: otherwise it cannot be paired with the chain.
				history: history.length === layerIds.length ? history : [],
				...(e.parent !== undefined ? {parent: e.parent} : {}),
				...(e.created !== undefined ? {created: e.created} : {}),
				...(e.config !== undefined ? {config: e.config} : {}),
				...(e.architecture !== undefined ? {architecture: e.architecture} : {}),
				...(e.os !== undefined ? {os: e.os} : {}),
				...(e.dockerVersion !== undefined ? {dockerVersion: e.dockerVersion} : {}),
				findings: imgFindings,
			});
		}
	}
	return {driver, layout: 'v1', refs: refs.value ?? [], images, layers, mounts, findings};
}

/** A 1.9 container's RW layer is the driver directory named by its id, its init layer `<id>-init`, built on its image's layer (daemon/daemon.go createRootfs). */
export function v1Mount(containerId: string, image: string | undefined): RawMount {
	// The image id is the id of the layer the init layer is built on (its parent), present or not.
	const parent = image !== undefined && hex64.test(image) ? image : undefined;
	return {
		containerId,
		path: `containers/${containerId}`,
		mountId: containerId,
		initId: `${containerId}-init`,
		...(parent !== undefined ? {parent} : {}),
		findings: [],
	};
}
