import {createHash} from 'node:crypto';
import {append} from '../../append.ts';
import {type Finding, finding} from '../../finding.ts';
import {parseJson} from '../../formats/json-parse.ts';
import type {Source} from '../../sources/source.ts';
import {type RawBlob, chainIds, configFields} from '../image-store.ts';
import {caps, digest as digestRe, obj, parsedFindings, sourceErrorFinding, str, strArray} from '../json-files.ts';
import {containerdRoot} from './meta-db.ts';

/**
 * containerd's content store, `io.containerd.content.v1.content/blobs/sha256/<hex>`: an image's id
 * is its record's target digest (a manifest, or an index whose manifest for one platform is used);
 * the manifest names the config, whose rootfs.diff_ids and history are the image's. Blob integrity
 * (sha256 of the bytes against the digest) is left to the checks: the reader records what each
 * blob hashes to.
 */
const contentBlobDir = `${containerdRoot}/io.containerd.content.v1.content/blobs/sha256`;

export function blobPath(digest: string): string {
	return `${contentBlobDir}/${digest.slice('sha256:'.length)}`;
}

const indexTypes = new Set([
	'application/vnd.oci.image.index.v1+json',
	'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const manifestTypes = new Set([
	'application/vnd.oci.image.manifest.v1+json',
	'application/vnd.docker.distribution.manifest.v2+json',
]);
/** Deepest index nesting followed (an index of indexes). */
const maxIndexDepth = 4;
/** Manifests of one index looked at. */
const maxIndexEntries = 256;
/** Bytes of blobs read for all images together; past it, images are listed without their config. */
const blobBudget = 128 * 1024 * 1024;

// ---- blobs

type Blob = {
	readonly present: boolean;
	readonly actual?: string;
	readonly json?: Record<string, unknown>;
	readonly problem?: Finding;
};

export type BlobReader = (digest: string, subject: string, what: string) => Blob;

/** One blob as read from the content store (a JSON object, with what its bytes hash to), or why not. */
function readBlob(source: Source, digest: string, subject: string, what: string): {blob: Blob; bytes: number} {
	const path = blobPath(digest);
	const r = source.readFile(path, caps.json);
	if (!r.ok) {
		const blob: Blob =
			r.error.code === 'missing'
				? {
						present: false,
						problem: finding(
							'error',
							'content.blob-missing',
							subject,
							`its ${what} ${digest} is not in the content store`,
							path,
						),
					}
				: {present: r.error.code === 'too-large', problem: sourceErrorFinding(r.error, subject, `${what} blob`)};
		return {blob, bytes: 0};
	}
	const actual = `sha256:${createHash('sha256').update(r.value).digest('hex')}`;
	// containerd and dockerd json.Unmarshal blobs: bytes after the value make it invalid.
	const parsed = parseJson(r.value.toString('utf8'));
	const json = parsed.ok && parsed.value.trailing === 0 ? obj(parsed.value.value) : undefined;
	const note = parsed.ok ? parsedFindings(parsed.value, subject, `its ${what} ${digest}`, path)[0] : undefined;
	const blob: Blob =
		json === undefined
			? {
					present: true,
					actual,
					problem: finding('error', 'json.invalid', subject, `its ${what} ${digest} is not a JSON object`, path),
				}
			: {present: true, actual, json, ...(note !== undefined ? {problem: note} : {})};
	return {blob, bytes: r.value.length};
}

/** Reads blobs once each (a cached blob's finding names the subject asking now), within one budget of bytes for all. */
export function blobReader(source: Source): BlobReader {
	const cache = new Map<string, Blob>();
	let spent = 0;
	return (digest, subject, what) => {
		const hit = cache.get(digest);
		if (hit !== undefined) return hit.problem === undefined ? hit : {...hit, problem: {...hit.problem, subject}};
		let out: Blob;
		if (spent > blobBudget) {
			out = {
				present: false,
				problem: finding(
					'warning',
					'content.not-read',
					subject,
					`${what} ${digest} not read: more than ${blobBudget >> 20} MiB of blobs were read already`,
					blobPath(digest),
				),
			};
		} else {
			const r = readBlob(source, digest, subject, what);
			spent += r.bytes;
			out = r.blob;
		}
		cache.set(digest, out);
		return out;
	};
}

function rawBlob(role: RawBlob['role'], digest: string, b: Blob): RawBlob {
	return {
		role,
		digest,
		path: blobPath(digest),
		present: b.present,
		...(b.actual !== undefined ? {actual: b.actual} : {}),
	};
}

// ---- manifests and indexes

export type Descriptor = {
	readonly digest: string;
	readonly mediaType?: string;
	readonly size?: number;
	readonly platform?: string;
	readonly attestation: boolean;
};

function descriptor(v: unknown): Descriptor | undefined {
	const o = obj(v);
	const d = str(o?.digest);
	if (o === undefined || d === undefined || !digestRe.test(d)) return undefined;
	const size = o.size;
	const plat = obj(o.platform);
	const os = str(plat?.os);
	const arch = str(plat?.architecture);
	const variant = str(plat?.variant);
	const annotations = obj(o.annotations);
	const mediaType = str(o.mediaType);
	return {
		digest: d,
		...(mediaType !== undefined ? {mediaType} : {}),
		...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? {size} : {}),
		...(os !== undefined || arch !== undefined
			? {platform: `${os ?? '?'}/${arch ?? '?'}${variant !== undefined && variant !== '' ? `/${variant}` : ''}`}
			: {}),
		attestation:
			annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (os === 'unknown' && arch === 'unknown'),
	};
}

/** One platform's manifest with its config, as found. */
type Resolved = {
	readonly manifest: Descriptor;
	readonly config?: Descriptor;
	readonly layers: Descriptor[];
	readonly configJson?: Record<string, unknown>;
	readonly blobs: RawBlob[];
	readonly findings: Finding[];
};

function readManifest(read: BlobReader, desc: Descriptor, subject: string): Resolved {
	const findings: Finding[] = [];
	const blobs: RawBlob[] = [];
	const m = read(desc.digest, subject, 'manifest');
	blobs.push(rawBlob('manifest', desc.digest, m));
	if (m.problem !== undefined) findings.push(m.problem);
	if (m.json === undefined) return {manifest: desc, layers: [], blobs, findings};
	const config = descriptor(m.json.config);
	const rawLayers = m.json.layers;
	const layers = Array.isArray(rawLayers)
		? rawLayers.map(descriptor).filter((d): d is Descriptor => d !== undefined)
		: [];
	if (config === undefined || !Array.isArray(rawLayers) || layers.length !== rawLayers.length) {
		findings.push(
			finding(
				'error',
				'json.shape',
				subject,
				`its manifest ${desc.digest} has no valid config descriptor or layer list`,
				blobPath(desc.digest),
			),
		);
		if (config === undefined) return {manifest: desc, layers, blobs, findings};
	}
	const c = read(config!.digest, subject, 'config');
	blobs.push(rawBlob('config', config!.digest, c));
	if (c.problem !== undefined) findings.push(c.problem);
	return {
		manifest: desc,
		config: config!,
		layers,
		...(c.json !== undefined ? {configJson: c.json} : {}),
		blobs,
		findings,
	};
}

type Target = {chosen?: Resolved; isIndex: boolean; blobs: RawBlob[]; findings: Finding[]};

/** What the choice among an index's platform manifests goes by: the containers' manifests, and which chain ids are unpacked. */
type Choice = {
	readonly preferred: ReadonlySet<string> | undefined;
	readonly snapshotKeys: ReadonlyMap<string, string[]>;
};

/**
 * Follows an image's target to one platform's manifest and config. An index picks, in order:
 * the manifest a container of this image was created from (config.v2.json ImageManifest); the
 * one whose layers are unpacked (its top chain id is a snapshot); the first present; and says
 * so when several were equally possible (a copy of the root does not record the daemon's platform).
 */
function resolveTarget(read: BlobReader, target: Descriptor, subject: string, choice: Choice): Target {
	const findings: Finding[] = [];
	const blobs: RawBlob[] = [];
	const t = read(target.digest, subject, 'manifest or index');
	const tJson = t.json;
	const isIndex =
		target.mediaType !== undefined
			? indexTypes.has(target.mediaType)
			: tJson !== undefined && Array.isArray(tJson.manifests);
	blobs.push(rawBlob(isIndex ? 'index' : 'manifest', target.digest, t));
	if (t.problem !== undefined) {
		findings.push(
			t.problem.code === 'content.blob-missing'
				? {
						...t.problem,
						message: `its ${isIndex ? 'index' : 'manifest'} ${target.digest} (the image id) is not in the content store: its config, layers and history are unknown`,
					}
				: t.problem,
		);
	}
	if (tJson === undefined) return {isIndex, blobs, findings};
	const out: Target = {isIndex, blobs, findings};
	if (isIndex) resolveIndex(read, target, tJson, subject, choice, out);
	else resolveManifest(read, target, tJson, subject, out);
	return out;
}

/** The target blob is the manifest itself (read already, from the cache now): its config. */
function resolveManifest(
	read: BlobReader,
	target: Descriptor,
	json: Record<string, unknown>,
	subject: string,
	out: Target,
): void {
	if (target.mediaType !== undefined && !manifestTypes.has(target.mediaType) && !Array.isArray(json.layers)) {
		out.findings.push(
			finding(
				'error',
				'json.shape',
				subject,
				`its target has media type ${JSON.stringify(target.mediaType)}, not an image manifest or index`,
				blobPath(target.digest),
			),
		);
		return;
	}
	const m = readManifest(read, target, subject);
	append(
		out.blobs,
		m.blobs.filter(b => b.role !== 'manifest'),
	);
	append(out.findings, m.findings);
	out.chosen = m;
}

/** An index's platform manifests (attestations left out), nested indexes followed a few levels; the nested indexes read join `out.blobs`. */
function platformManifests(
	read: BlobReader,
	target: Descriptor,
	json: Record<string, unknown>,
	subject: string,
	out: Target,
): Descriptor[] {
	const leaves: Descriptor[] = [];
	const walk = (index: Record<string, unknown>, depth: number): void => {
		const list = index.manifests;
		if (!Array.isArray(list)) {
			out.findings.push(
				finding('error', 'json.shape', subject, 'its index has no manifests list', blobPath(target.digest)),
			);
			return;
		}
		for (const raw of list.slice(0, maxIndexEntries)) {
			const d = descriptor(raw);
			if (d === undefined || d.attestation) continue;
			if (d.mediaType !== undefined && indexTypes.has(d.mediaType)) {
				if (depth >= maxIndexDepth) continue;
				const nested = read(d.digest, subject, 'nested index');
				out.blobs.push(rawBlob('index', d.digest, nested));
				if (nested.json !== undefined) walk(nested.json, depth + 1);
				continue;
			}
			leaves.push(d);
		}
	};
	walk(json, 1);
	return leaves;
}

const platformLabel = (d: Descriptor): string => d.platform ?? d.digest.slice(0, 19);

/** An index: the platform manifests present with their config (what docker's GetImage accepts), one of them chosen. */
function resolveIndex(
	read: BlobReader,
	target: Descriptor,
	json: Record<string, unknown>,
	subject: string,
	choice: Choice,
	out: Target,
): void {
	const leaves = platformManifests(read, target, json, subject, out);
	const here: Resolved[] = [];
	for (const d of leaves) {
		const probe = read(d.digest, subject, 'manifest');
		if (!probe.present) continue;
		const m = readManifest(read, d, subject);
		if (m.configJson !== undefined) here.push(m);
	}
	if (here.length === 0) {
		const listed =
			leaves.length > 0
				? ` (${leaves.slice(0, 8).map(platformLabel).join(', ')}${leaves.length > 8 ? ', …' : ''})`
				: '';
		out.findings.push(
			finding(
				'error',
				'content.blob-missing',
				subject,
				`its index lists ${leaves.length} platform manifest${leaves.length === 1 ? '' : 's'}${listed}, but none is in the content store with its config: its layers and history are unknown`,
				blobPath(target.digest),
			),
		);
		return;
	}
	const {pool, why} = candidates(here, choice);
	const chosen = pool[0]!;
	if (pool.length > 1) {
		out.findings.push(
			finding(
				'info',
				'image.platform-ambiguous',
				subject,
				`its index has ${pool.length} platform manifests ${why} (${pool.map(m => platformLabel(m.manifest)).join(', ')}); layerlens shows the first, ${platformLabel(chosen.manifest)}: docker picks by the daemon's platform, which the root does not record`,
				blobPath(target.digest),
			),
		);
	}
	append(out.blobs, chosen.blobs);
	append(out.findings, chosen.findings);
	out.chosen = chosen;
}

/** The platform manifests equally fit to be shown, and why they are. */
function candidates(here: readonly Resolved[], choice: Choice): {pool: readonly Resolved[]; why: string} {
	const preferred = here.filter(m => choice.preferred?.has(m.manifest.digest) === true);
	if (preferred.length > 0) return {pool: preferred, why: 'the manifest its containers were created from'};
	const unpacked = here.filter(m => {
		const diffIds = strArray(obj(m.configJson?.rootfs)?.diff_ids);
		const chain = diffIds === undefined ? [] : chainIds(diffIds.filter(x => digestRe.test(x)));
		return chain.length === 0 || choice.snapshotKeys.has(chain.at(-1)!);
	});
	if (unpacked.length > 0) return {pool: unpacked, why: 'unpacked into snapshots'};
	return {pool: here, why: 'present in the content store'};
}

// ---- an image's content

type ConfigFields = ReturnType<typeof configFields>;

type ImageContent = ConfigFields & {readonly size?: number; readonly blobs: RawBlob[]};

/**
 * An image's config fields, blobs and size from the content store, its findings added to
 * `findings`. Size is docker image inspect's: the descriptors walked (target, the platform's
 * manifest, its config and layers).
 */
export function readImageContent(
	read: BlobReader,
	target: Descriptor,
	subject: string,
	choice: Choice,
	findings: Finding[],
): ImageContent {
	const resolved = resolveTarget(read, target, subject, choice);
	append(findings, resolved.findings);
	const chosen = resolved.chosen;
	let fieldsRead: ConfigFields = {diffIds: [], history: []};
	if (chosen?.configJson !== undefined)
		fieldsRead = configFields(chosen.configJson, subject, blobPath(chosen.config!.digest), findings);
	let size: number | undefined;
	if (chosen !== undefined) {
		const sizes = [
			target.size,
			...(resolved.isIndex ? [chosen.manifest.size] : []),
			chosen.config?.size,
			...chosen.layers.map(l => l.size),
		];
		if (sizes.every(s => s !== undefined)) size = (sizes as number[]).reduce((a, b) => a + b, 0);
	}
	return {...fieldsRead, ...(size !== undefined ? {size} : {}), blobs: resolved.blobs};
}
