import {createHash} from 'node:crypto';
import {append} from '../../append.ts';
import {type Finding, finding} from '../../finding.ts';
import {type Bolt, type BoltBucketRef, type BoltEntry, bucketAt} from '../../formats/bbolt.ts';
import type {RawContainer} from '../container-store.ts';
import {type DriverInfo, drivers, isDriverName} from '../drivers/registry.ts';
import {caps, digest as digestRe, hex64, obj, parsedFindings, sourceErrorFinding, str, strArray} from '../json-files.ts';
import {type RawBlob, type RawImage, type RawImageStore, type RawLayer, type RawMount, type RawRef, type StoreParts, chainIds, configFields} from '../image-store.ts';
import {parseJson} from '../../formats/json-parse.ts';
import {type Source, byString} from '../../sources/source.ts';
import {readBolt} from '../volumes.ts';

/**
 * The containerd image store (the reference layout notes §6; opt-in from Docker 24, default on fresh
 * installs from 29), read into one RawImageStore per snapshotter, shaped like image/<driver>/:
 *
 * - `meta.db` (bbolt, namespace `moby`): `images/<name>/{target/{digest,mediatype,size},labels/,
 *   createdat,updatedat}`; `snapshots/<snapshotter>/<key>/{name,parent,...}`, where a layer's key
 *   is its chain id, a container's RW snapshot is keyed by the container id and its parent is
 *   `<id>-init`, whose parent is the image's top chain id (containerd core/metadata, moby
 *   daemon/containerd/image_snapshot.go).
 * - content blobs `io.containerd.content.v1.content/blobs/sha256/<hex>`: the image's id is its
 *   record's target digest (a manifest, or an index whose manifest for one platform is used);
 *   the manifest names the config, whose rootfs.diff_ids and history are the image's.
 * - the snapshotter's own `metadata.db`: `v1/snapshots/<backend key>/{id (uvarint), kind (1 view,
 *   2 active, 3 committed), parent, size (varint), inodes}`; meta.db's snapshot `name` is that
 *   backend key (`moby/<n>/<key>`), and the snapshot's directory is `snapshots/<id>` (`/fs` for
 *   overlayfs).
 *
 * The data is under `$ROOT/containerd/daemon` only when dockerd ran its own containerd; with a
 * system containerd it is in that containerd's root (/var/lib/containerd by default), outside
 * the Docker root: one `layout.containerd-store` finding says so, and names --containerd-root,
 * which mounts that root at `containerd/daemon` (mounted-source.ts), so this reader is the same.
 * Blob integrity (sha256 of the bytes against the digest) is left to the checks: the reader
 * records what each blob hashes to.
 */
export const containerdRoot = 'containerd/daemon';
export const metaDbPath = `${containerdRoot}/io.containerd.metadata.v1.bolt/meta.db`;
const contentBlobDir = `${containerdRoot}/io.containerd.content.v1.content/blobs/sha256`;

function snapshotterRoot(name: string): string {
	return `${containerdRoot}/io.containerd.snapshotter.v1.${name}`;
}

function blobPath(digest: string): string {
	return `${contentBlobDir}/${digest.slice('sha256:'.length)}`;
}

/** Snapshotter names a container's Driver has in containerd mode (config.v2.json). */
const snapshotters = new Set(['overlayfs', 'native', 'stargz', 'nydus', 'erofs', 'devmapper', 'blockfile']);

/** Snapshotters whose snapshots layerlens reads (each has an entry in drivers.ts). */
function isReadableSnapshotter(name: string): boolean {
	return isDriverName(name) && (drivers[name] as DriverInfo).containerd === true;
}

/** The name Docker gives an untagged image record (daemon/containerd/image.go danglingImageName). */
const danglingPrefix = 'moby-dangling@';
const imageParentLabel = 'org.mobyproject.image.parent';

const indexTypes = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const manifestTypes = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
/** Deepest index nesting followed (an index of indexes). */
const maxIndexDepth = 4;
/** Manifests of one index looked at. */
const maxIndexEntries = 256;
/** Bytes of blobs read for all images together; past it, images are listed without their config. */
const blobBudget = 128 * 1024 * 1024;
/** Longest snapshot parent chain followed. */
const maxDepth = 512;
/** Longest image name accepted. */
const maxNameLength = 4096;

// ---- encodings (containerd core/metadata/boltutil, core/snapshots/storage/bolt.go; Go time.MarshalBinary)

/** An unsigned LEB128 varint (encoding/binary PutUvarint); undefined when malformed or beyond 2^53. */
export function uvarint(b: Buffer): number | undefined {
	let x = 0n;
	let shift = 0n;
	for (let i = 0; i < b.length && i < 10; i++) {
		const byte = b[i]!;
		x |= BigInt(byte & 0x7f) << shift;
		if ((byte & 0x80) === 0) return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : undefined;
		shift += 7n;
	}
	return undefined;
}

/** A signed zigzag varint (encoding/binary PutVarint). */
export function varint(b: Buffer): number | undefined {
	const u = uvarint(b);
	if (u === undefined) return undefined;
	const big = BigInt(u);
	const v = big & 1n ? -(big >> 1n) - 1n : big >> 1n;
	return Number(v);
}

/** Seconds from 0001-01-01 to 1970-01-01 (Go's internal epoch). */
const goEpochOffset = 62135596800n;

/** Go's time.MarshalBinary (versions 1 and 2) as an RFC 3339 string in UTC with nanoseconds (trailing zeros dropped, as Go's RFC3339Nano). */
export function goTime(b: Buffer): string | undefined {
	if (b.length < 15 || (b[0] !== 1 && b[0] !== 2) || (b[0] === 1 && b.length !== 15) || (b[0] === 2 && b.length !== 16)) return undefined;
	const sec = b.readBigInt64BE(1) - goEpochOffset;
	const nsec = b.readInt32BE(9);
	if (nsec < 0 || nsec > 999_999_999) return undefined;
	// Years 1..9999 only (what RFC 3339 can say).
	if (sec < -62135596800n || sec > 253402300799n) return undefined;
	const date = new Date(Number(sec) * 1000);
	const base = date.toISOString().slice(0, 19);
	const frac = nsec === 0 ? '' : `.${String(nsec).padStart(9, '0').replace(/0+$/, '')}`;
	return `${base}${frac}Z`;
}

/** Orders two Go binary times (as returned by goTime); later is greater. */
function timeKey(t: string): string {
	const m = /^(.*?)(?:\.(\d+))?Z$/.exec(t);
	return m === null ? t : `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}`;
}

// ---- references (distribution/reference: FamiliarString)

/**
 * The familiar form docker prints: `docker.io/library/busybox:latest` → `busybox:latest`,
 * `docker.io/local/app:1` → `local/app:1`. Returns the repository, the tag and the digest.
 */
export function familiarRef(name: string): {repo: string; tag?: string; digest?: string} | undefined {
	if (name === '' || name.length > maxNameLength || /[\s\0-\x1f\x7f]/.test(name)) return undefined;
	let rest = name;
	let digest: string | undefined;
	const at = rest.indexOf('@');
	if (at >= 0) {
		digest = rest.slice(at + 1);
		rest = rest.slice(0, at);
		if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) return undefined;
	}
	let tag: string | undefined;
	const colon = rest.lastIndexOf(':');
	if (colon > rest.lastIndexOf('/')) {
		tag = rest.slice(colon + 1);
		rest = rest.slice(0, colon);
		if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
	}
	if (rest === '') return undefined;
	let repo = rest;
	if (repo.startsWith('docker.io/')) {
		repo = repo.slice('docker.io/'.length);
		if (repo.startsWith('library/') && !repo.slice('library/'.length).includes('/')) repo = repo.slice('library/'.length);
	}
	return {repo, ...(tag !== undefined ? {tag} : {}), ...(digest !== undefined ? {digest} : {})};
}

// ---- bbolt helpers

type Fields = {values: Map<string, Buffer>; buckets: Map<string, BoltBucketRef>};

function fields(db: Bolt, bucket: BoltBucketRef, errors: string[]): Fields {
	const read = db.entries(bucket);
	append(errors, read.errors);
	const values = new Map<string, Buffer>();
	const buckets = new Map<string, BoltBucketRef>();
	for (const e of read.entries as BoltEntry[]) {
		const k = e.key.toString('utf8');
		if (e.bucket !== undefined) buckets.set(k, e.bucket);
		else values.set(k, e.value);
	}
	return {values, buckets};
}

function labelsOf(db: Bolt, ref: BoltBucketRef | undefined, errors: string[]): Record<string, string> {
	const out: Record<string, string> = {};
	if (ref === undefined) return out;
	for (const [k, v] of fields(db, ref, errors).values) Object.defineProperty(out, k, {value: v.toString('utf8'), enumerable: true, writable: true, configurable: true});
	return out;
}

// ---- meta.db records

type ImageRecord = {
	readonly name: string;
	readonly digest?: string;
	readonly mediaType?: string;
	readonly size?: number;
	readonly labels: Record<string, string>;
	readonly updatedAt?: string;
	readonly createdAt?: string;
};

type SnapshotRecord = {readonly key: string; readonly name?: string; readonly parent?: string; readonly createdAt?: string};

type BackendRecord = {readonly key: string; readonly id?: string; readonly kind: string; readonly parent?: string; readonly size?: number};

const kinds: Record<number, string> = {0: 'unknown', 1: 'view', 2: 'active', 3: 'committed'};

// ---- blobs

type Blob = {readonly present: boolean; readonly actual?: string; readonly json?: Record<string, unknown>; readonly problem?: Finding};

type BlobReader = (digest: string, subject: string, what: string) => Blob;

function blobReader(source: Source): BlobReader {
	const cache = new Map<string, Blob>();
	let spent = 0;
	return (digest, subject, what) => {
		const hit = cache.get(digest);
		if (hit !== undefined) return hit.problem === undefined ? hit : {...hit, problem: {...hit.problem, subject}};
		const path = blobPath(digest);
		let out: Blob;
		if (spent > blobBudget) {
			out = {present: false, problem: finding('warning', 'content.not-read', subject, `${what} ${digest} not read: more than ${blobBudget >> 20} MiB of blobs were read already`, path)};
		} else {
			const r = source.readFile(path, caps.json);
			if (!r.ok) {
				out =
					r.error.code === 'missing'
						? {present: false, problem: finding('error', 'content.blob-missing', subject, `its ${what} ${digest} is not in the content store`, path)}
						: {present: r.error.code === 'too-large', problem: sourceErrorFinding(r.error, subject, `${what} blob`)};
			} else {
				spent += r.value.length;
				const actual = 'sha256:' + createHash('sha256').update(r.value).digest('hex');
				// containerd and dockerd json.Unmarshal blobs: bytes after the value make it invalid.
				const parsed = parseJson(r.value.toString('utf8'));
				const json = parsed.ok && parsed.value.trailing === 0 ? obj(parsed.value.value) : undefined;
				const note = parsed.ok ? parsedFindings(parsed.value, subject, `its ${what} ${digest}`, path)[0] : undefined;
				out = json === undefined ? {present: true, actual, problem: finding('error', 'json.invalid', subject, `its ${what} ${digest} is not a JSON object`, path)} : {present: true, actual, json, ...(note !== undefined ? {problem: note} : {})};
			}
		}
		cache.set(digest, out);
		return out;
	};
}

type Descriptor = {readonly digest: string; readonly mediaType?: string; readonly size?: number; readonly platform?: string; readonly attestation: boolean};

function descriptor(v: unknown): Descriptor | undefined {
	const o = obj(v);
	const d = str(o?.['digest']);
	if (o === undefined || d === undefined || !digestRe.test(d)) return undefined;
	const size = o['size'];
	const plat = obj(o['platform']);
	const os = str(plat?.['os']);
	const arch = str(plat?.['architecture']);
	const variant = str(plat?.['variant']);
	const annotations = obj(o['annotations']);
	const mediaType = str(o['mediaType']);
	return {
		digest: d,
		...(mediaType !== undefined ? {mediaType} : {}),
		...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? {size} : {}),
		...(os !== undefined || arch !== undefined ? {platform: `${os ?? '?'}/${arch ?? '?'}${variant !== undefined && variant !== '' ? `/${variant}` : ''}`} : {}),
		attestation: annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (os === 'unknown' && arch === 'unknown'),
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
	blobs.push({role: 'manifest', digest: desc.digest, path: blobPath(desc.digest), present: m.present, ...(m.actual !== undefined ? {actual: m.actual} : {})});
	if (m.problem !== undefined) findings.push(m.problem);
	if (m.json === undefined) return {manifest: desc, layers: [], blobs, findings};
	const config = descriptor(m.json['config']);
	const rawLayers = m.json['layers'];
	const layers = Array.isArray(rawLayers) ? rawLayers.map(descriptor).filter((d): d is Descriptor => d !== undefined) : [];
	if (config === undefined || !Array.isArray(rawLayers) || layers.length !== rawLayers.length) {
		findings.push(finding('error', 'json.shape', subject, `its manifest ${desc.digest} has no valid config descriptor or layer list`, blobPath(desc.digest)));
		if (config === undefined) return {manifest: desc, layers, blobs, findings};
	}
	const c = read(config!.digest, subject, 'config');
	blobs.push({role: 'config', digest: config!.digest, path: blobPath(config!.digest), present: c.present, ...(c.actual !== undefined ? {actual: c.actual} : {})});
	if (c.problem !== undefined) findings.push(c.problem);
	return {manifest: desc, config: config!, layers, ...(c.json !== undefined ? {configJson: c.json} : {}), blobs, findings};
}


export type ContainerdRead = {
	/** One store per snapshotter read (driver = snapshotter name). */
	readonly stores: Map<string, RawImageStore>;
	readonly findings: Finding[];
};

/** The image records of meta.db namespace moby: `images/<name>` with its target descriptor, labels and times. */
function readImageRecords(db: Bolt, imagesRef: BoltBucketRef | undefined, errors: string[], findings: Finding[]): ImageRecord[] {
	const records: ImageRecord[] = [];
	if (imagesRef === undefined) return records;
	const subject = 'store:containerd';
	const list = db.entries(imagesRef);
	append(errors, list.errors);
	for (const e of list.entries) {
		const name = e.key.toString('utf8');
		if (e.bucket === undefined) {
			findings.push(finding('error', 'db.shape', subject, `meta.db: image record ${JSON.stringify(name.slice(0, 200))} is not a bucket`, metaDbPath));
			continue;
		}
		const f = fields(db, e.bucket, errors);
		const target = f.buckets.get('target');
		const t = target === undefined ? undefined : fields(db, target, errors);
		const d = t?.values.get('digest')?.toString('utf8');
		const mediaType = t?.values.get('mediatype')?.toString('utf8');
		const size = t?.values.get('size');
		const sizeValue = size === undefined ? undefined : varint(size);
		const updated = f.values.get('updatedat');
		const created = f.values.get('createdat');
		const updatedAt = updated === undefined ? undefined : goTime(updated);
		const createdAt = created === undefined ? undefined : goTime(created);
		records.push({
			name,
			...(d !== undefined ? {digest: d} : {}),
			...(mediaType !== undefined ? {mediaType} : {}),
			...(sizeValue !== undefined && sizeValue >= 0 ? {size: sizeValue} : {}),
			labels: labelsOf(db, f.buckets.get('labels'), errors),
			...(updatedAt !== undefined ? {updatedAt} : {}),
			...(createdAt !== undefined ? {createdAt} : {}),
		});
	}
	return records;
}

/** The snapshot records of meta.db namespace moby: snapshotter → key → {name (backend key), parent, createdat}. */
function readSnapshotRecords(db: Bolt, snapshotsRef: BoltBucketRef | undefined, errors: string[]): Map<string, Map<string, SnapshotRecord>> {
	const snapshotRecords = new Map<string, Map<string, SnapshotRecord>>();
	if (snapshotsRef === undefined) return snapshotRecords;
	const perSnapshotter = fields(db, snapshotsRef, errors);
	for (const [sn, ref] of perSnapshotter.buckets) {
		const map = new Map<string, SnapshotRecord>();
		const list = db.entries(ref);
		append(errors, list.errors);
		for (const e of list.entries) {
			if (e.bucket === undefined) continue;
			const key = e.key.toString('utf8');
			const f = fields(db, e.bucket, errors);
			const name = f.values.get('name')?.toString('utf8');
			const parent = f.values.get('parent')?.toString('utf8');
			const c = f.values.get('createdat');
			const createdAt = c === undefined ? undefined : goTime(c);
			map.set(key, {key, ...(name !== undefined ? {name} : {}), ...(parent !== undefined && parent !== '' ? {parent} : {}), ...(createdAt !== undefined ? {createdAt} : {})});
		}
		snapshotRecords.set(sn, map);
	}
	return snapshotRecords;
}

type Backend = {readonly map: Map<string, BackendRecord>; readonly read: boolean; readonly path: string};

/** Each snapshotter's own metadata.db (containerd core/snapshots/storage): backend key → id (its directory), kind, parent, size. */
function readBackends(source: Source, storeNames: readonly string[], snapshotRecords: ReadonlyMap<string, ReadonlyMap<string, SnapshotRecord>>, findings: Finding[]): Map<string, Backend> {
	const backends = new Map<string, Backend>();
	for (const sn of storeNames) {
		const path = `${snapshotterRoot(sn)}/metadata.db`;
		const map = new Map<string, BackendRecord>();
		const sb = readBolt(source, path, `store:${sn}`, `${sn} snapshotter metadata.db`);
		append(findings, sb.findings);
		if (sb.db === undefined) {
			const n = snapshotRecords.get(sn)?.size ?? 0;
			if (sb.missing && n > 0) {
				findings.push(finding('error', 'file.missing', `store:${sn}`, `the ${sn} snapshotter's metadata.db is missing: it maps each snapshot to its directory snapshots/<id>, so the directories of all ${n} snapshots are unknown`, path));
			}
			backends.set(sn, {map, read: false, path});
			continue;
		}
		const sdb = sb.db;
		const at = bucketAt(sdb, ['v1', 'snapshots']);
		const serr: string[] = [...at.errors];
		if (at.bucket !== undefined) {
			const list = sdb.entries(at.bucket);
			append(serr, list.errors);
			for (const e of list.entries) {
				if (e.bucket === undefined) continue;
				const key = e.key.toString('utf8');
				const f = fields(sdb, e.bucket, serr);
				const idRaw = f.values.get('id');
				const id = idRaw === undefined ? undefined : uvarint(idRaw);
				const kindRaw = f.values.get('kind');
				const kind = kindRaw !== undefined && kindRaw.length === 1 ? (kinds[kindRaw[0]!] ?? `kind ${kindRaw[0]}`) : 'unknown';
				const parent = f.values.get('parent')?.toString('utf8');
				const sizeRaw = f.values.get('size');
				const size = sizeRaw === undefined ? undefined : varint(sizeRaw);
				map.set(key, {key, ...(id !== undefined ? {id: String(id)} : {}), kind, ...(parent !== undefined && parent !== '' ? {parent} : {}), ...(size !== undefined && size >= 0 ? {size} : {})});
			}
		} else if (serr.length === 0) {
			findings.push(finding('warning', 'db.shape', `store:${sn}`, `the ${sn} snapshotter's metadata.db has no v1/snapshots bucket`, path));
		}
		for (const e of serr) findings.push(finding('error', 'db.damaged', `store:${sn}`, `${sn} snapshotter metadata.db: ${e}`, path));
		backends.set(sn, {map, read: true, path});
	}
	return backends;
}

/**
 * Reads the containerd image store under `$ROOT/containerd/daemon`. `containers` are the root's
 * containers (their Driver names the snapshotter; their ImageManifest picks an index's platform);
 * `imageStores` are the image/<driver>/ stores already read (a snapshotter never shares a name with one).
 */
export function readContainerdStores(source: Source, containers: readonly RawContainer[], imageStores: readonly string[], parts: StoreParts): ContainerdRead {
	const findings: Finding[] = [];
	const stores = new Map<string, RawImageStore>();
	const subject = 'store:containerd';
	const usedBy = new Map<string, number>();
	for (const c of containers) if (c.driver !== undefined && (snapshotters.has(c.driver) || isReadableSnapshotter(c.driver)) && !imageStores.includes(c.driver)) usedBy.set(c.driver, (usedBy.get(c.driver) ?? 0) + 1);
	const used = [...usedBy.keys()].sort(byString);
	const names = (list: readonly string[]): string => list.map(s => `"${s}"`).join(', ');
	const bolt = readBolt(source, metaDbPath, subject, 'containerd meta.db');
	if (bolt.db === undefined) {
		if (bolt.missing) {
			if (used.length > 0) {
				findings.push(
					finding(
						'error',
						'layout.containerd-store',
						'root',
						source.mounted === undefined
							? `containers use the containerd snapshotter ${names(used)}, but ${metaDbPath} is absent: dockerd used a containerd it did not start (a system containerd, whose root is /var/lib/containerd unless configured otherwise), so the images, content blobs and snapshots are in that containerd's root, outside this Docker root, and these containers show no layer chain; pass --containerd-root /var/lib/containerd (or the copy of it taken with this root, a directory or an archive) to read them`
							: `containers use the containerd snapshotter ${names(used)}, but the containerd root given with --containerd-root (${source.mounted.location}) has no io.containerd.metadata.v1.bolt/meta.db, so these containers show no layer chain`,
					),
				);
			}
			return {stores, findings};
		}
		// Unreadable or not bbolt: nothing of the store can be read; the containers are still listed.
		append(findings, bolt.findings);
		return {stores, findings};
	}
	const db = bolt.db;
	append(findings, bolt.findings);
	const errors: string[] = [];
	const damaged = (where: string): void => {
		for (const e of errors.splice(0)) findings.push(finding('error', 'db.damaged', subject, `${where}: ${e}`, metaDbPath));
	};
	const ns = bucketAt(db, ['v1', 'moby']);
	append(errors, ns.errors);
	damaged('containerd meta.db');
	if (ns.bucket === undefined) {
		if (used.length > 0) {
			findings.push(finding('error', 'layout.containerd-store', 'root', `containers use the containerd snapshotter ${names(used)}, but ${metaDbPath} has no namespace "moby" (bucket v1/moby): Docker's images and snapshots are not in it, so these containers show no layer chain`, metaDbPath));
		}
		return {stores, findings};
	}
	const top = fields(db, ns.bucket, errors);
	damaged('containerd meta.db, namespace moby');

	const records = readImageRecords(db, top.buckets.get('images'), errors, findings);
	damaged('containerd meta.db, images');

	const snapshotRecords = readSnapshotRecords(db, top.buckets.get('snapshots'), errors);
	damaged('containerd meta.db, snapshots');

	// Which snapshotters become stores: those with snapshots here or containers using them.
	const present = [...new Set([...snapshotRecords.keys(), ...used])].sort(byString);
	const unread = present.filter(s => !isReadableSnapshotter(s) && ((snapshotRecords.get(s)?.size ?? 0) > 0 || usedBy.has(s)));
	for (const s of unread) {
		findings.push(
			finding('error', 'layout.containerd-store', 'root', `the containerd snapshotter "${s}" (${snapshotRecords.get(s)?.size ?? 0} snapshots in ${metaDbPath}, ${usedBy.get(s) ?? 0} containers) is not read by layerlens: its images' layers and its containers' chains are not shown`, metaDbPath),
		);
	}
	const readable = present.filter(s => isReadableSnapshotter(s) && ((snapshotRecords.get(s)?.size ?? 0) > 0 || usedBy.has(s)));
	// Images go to the snapshotter(s) holding their top layer; failing that, to the one Docker used.
	const primary = [...readable].sort((a, b) => (usedBy.get(b) ?? 0) - (usedBy.get(a) ?? 0) || (snapshotRecords.get(b)?.size ?? 0) - (snapshotRecords.get(a)?.size ?? 0) || byString(a, b))[0] ?? (records.length > 0 ? 'overlayfs' : undefined);
	if (primary === undefined) return {stores, findings};
	const storeNames = [...new Set([...readable, primary])].sort(byString);

	const backends = parts.layers || parts.mounts ? readBackends(source, storeNames, snapshotRecords, findings) : new Map<string, Backend>();

	// Images, grouped by target digest (several names can point to one image).
	const byTarget = new Map<string, ImageRecord[]>();
	for (const r of records) {
		if (r.digest === undefined || !digestRe.test(r.digest)) {
			findings.push(finding('error', 'db.shape', subject, `meta.db: image ${JSON.stringify(r.name.slice(0, 200))} has no valid target digest`, metaDbPath));
			continue;
		}
		const list = byTarget.get(r.digest) ?? [];
		list.push(r);
		byTarget.set(r.digest, list);
	}
	const manifestsUsed = new Map<string, Set<string>>();
	for (const c of containers) {
		if (c.image === undefined || c.imageManifest === undefined) continue;
		const set = manifestsUsed.get(c.image) ?? new Set<string>();
		set.add(c.imageManifest);
		manifestsUsed.set(c.image, set);
	}
	const allSnapshotKeys = new Map<string, string[]>();
	for (const [sn, map] of snapshotRecords) for (const k of map.keys()) allSnapshotKeys.set(k, [...(allSnapshotKeys.get(k) ?? []), sn]);

	const read = blobReader(source);
	type Built = {image: RawImage; refs: RawRef[]; chain: string[]; topChain?: string};
	const built: Built[] = [];
	for (const [id, recs] of [...byTarget].sort((a, b) => byString(a[0], b[0]))) {
		const imgSubject = `image:${id}`;
		const imgFindings: Finding[] = [];
		const refs: RawRef[] = [];
		const digests = new Set<string>();
		let lastUpdated: string | undefined;
		const parents = new Set<string>();
		for (const r of recs.sort((a, b) => byString(a.name, b.name))) {
			if (r.updatedAt !== undefined && (lastUpdated === undefined || timeKey(r.updatedAt) > timeKey(lastUpdated))) lastUpdated = r.updatedAt;
			const p = r.labels[imageParentLabel];
			if (p !== undefined && p !== '') parents.add(p);
			if (r.name.startsWith(danglingPrefix)) continue;
			const ref = familiarRef(r.name);
			if (ref === undefined) {
				imgFindings.push(finding('warning', 'db.shape', imgSubject, `meta.db: image name ${JSON.stringify(r.name.slice(0, 200))} is not a valid reference; not shown as a tag`, metaDbPath));
				continue;
			}
			if (ref.digest !== undefined) {
				digests.add(`${ref.repo}@${ref.digest}`);
				if (ref.tag !== undefined) refs.push({repo: ref.repo, ref: `${ref.repo}:${ref.tag}`, imageId: id});
				continue;
			}
			if (ref.tag !== undefined) refs.push({repo: ref.repo, ref: `${ref.repo}:${ref.tag}`, imageId: id});
			// docker image inspect: every named record also gives repo@<target digest> (daemon/containerd/image.go GetImage).
			digests.add(`${ref.repo}@${id}`);
		}
		for (const d of [...digests].sort(byString)) refs.push({repo: d.slice(0, d.indexOf('@')), ref: d, imageId: id});
		let parent: string | undefined;
		if (parents.size > 0) {
			const list = [...parents].sort(byString);
			if (list.length > 1) imgFindings.push(finding('warning', 'image.parent-invalid', imgSubject, `its records name ${list.length} different parents (${list.join(', ')}); the first is shown`, metaDbPath));
			if (digestRe.test(list[0]!)) parent = list[0];
			else imgFindings.push(finding('error', 'image.parent-invalid', imgSubject, `the ${imageParentLabel} label is not an image id`, metaDbPath));
		}
		const target: Descriptor = {digest: id, ...(recs[0]!.mediaType !== undefined ? {mediaType: recs[0]!.mediaType} : {}), ...(recs[0]!.size !== undefined ? {size: recs[0]!.size} : {}), attestation: false};
		const base = {
			id,
			path: blobPath(id),
			...(parent !== undefined ? {parent} : {}),
			...(lastUpdated !== undefined ? {lastUpdated} : {}),
		};
		if (!parts.images) {
			built.push({image: {...base, diffIds: [], history: [], findings: imgFindings}, refs, chain: []});
			continue;
		}
		const resolved = resolveTarget(read, target, imgSubject, manifestsUsed.get(id), allSnapshotKeys);
		append(imgFindings, resolved.findings);
		const chosen = resolved.chosen;
		let fieldsRead: Pick<RawImage, 'diffIds' | 'history' | 'created' | 'config' | 'architecture' | 'os' | 'dockerVersion'> = {diffIds: [], history: []};
		if (chosen?.configJson !== undefined) fieldsRead = configFields(chosen.configJson, imgSubject, blobPath(chosen.config!.digest), imgFindings);
		// docker image inspect's Size: the descriptors walked (target, the platform's manifest, its config and layers).
		let size: number | undefined;
		if (chosen !== undefined) {
			const sizes = [target.size, ...(resolved.isIndex ? [chosen.manifest.size] : []), chosen.config?.size, ...chosen.layers.map(l => l.size)];
			if (sizes.every(s => s !== undefined)) size = (sizes as number[]).reduce((a, b) => a + b, 0);
		}
		const image: RawImage = {...base, ...fieldsRead, ...(size !== undefined ? {size} : {}), blobs: resolved.blobs, findings: imgFindings};
		const chain = chainIds(image.diffIds);
		built.push({image, refs, chain, ...(chain.length > 0 ? {topChain: chain.at(-1)!} : {})});
	}

	// chain id → diff id, from every image's config.
	const diffOf = new Map<string, string>();
	for (const b of built) b.chain.forEach((c, i) => diffOf.set(c, b.image.diffIds[i]!));

	for (const sn of storeNames) {
		const recordsHere = snapshotRecords.get(sn) ?? new Map<string, SnapshotRecord>();
		const backend = backends.get(sn);
		const storeFindings: Finding[] = [];
		const dirOf = (rec: SnapshotRecord, owner: string): BackendRecord | undefined => {
			if (backend === undefined || !backend.read) return undefined;
			if (rec.name === undefined) {
				storeFindings.push(finding('error', 'db.shape', owner, `meta.db snapshot ${JSON.stringify(rec.key.slice(0, 200))} (${sn}) has no backend name`, metaDbPath));
				return undefined;
			}
			const b = backend.map.get(rec.name);
			if (b === undefined || b.id === undefined) {
				storeFindings.push(
					finding('error', 'containerd.snapshot-unmapped', owner, `meta.db snapshot ${JSON.stringify(rec.key.slice(0, 200))} names the ${sn} snapshot ${JSON.stringify(rec.name.slice(0, 200))}, which the snapshotter's metadata.db ${b === undefined ? 'does not hold' : 'holds without an id'}: its directory is unknown`, backend.path),
				);
				return undefined;
			}
			return b;
		};
		const layers = new Map<string, RawLayer>();
		const mounts = new Map<string, RawMount>();
		const layerRecord = (rec: SnapshotRecord, snapshotOnly: boolean): RawLayer => {
			const owner = `layer:${rec.key}`;
			const before = storeFindings.length;
			const b = dirOf(rec, owner);
			const own = storeFindings.splice(before);
			const diffId = snapshotOnly ? undefined : diffOf.get(rec.key);
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
		};
		if (parts.layers || parts.mounts) {
			for (const rec of recordsHere.values()) {
				if (!digestRe.test(rec.key)) continue;
				layers.set(rec.key, layerRecord(rec, false));
			}
			// Walk down from each layer: a non-layer snapshot in a layer's ancestry (a build container's init) joins as snapshotOnly.
			for (const l of [...layers.values()]) {
				let p = l.parent;
				let depth = 0;
				while (p !== undefined && !layers.has(p) && depth++ < maxDepth) {
					const rec = recordsHere.get(p);
					if (rec === undefined) break;
					layers.set(p, layerRecord(rec, true));
					p = rec.parent;
				}
			}
		}
		if (parts.mounts) {
			for (const rec of recordsHere.values()) {
				if (!hex64.test(rec.key)) continue;
				const owner = `container:${rec.key}`;
				const before = storeFindings.length;
				const rw = dirOf(rec, owner);
				const initRec = rec.parent === `${rec.key}-init` ? recordsHere.get(rec.parent) : undefined;
				const init = initRec === undefined ? undefined : dirOf(initRec, owner);
				const own = storeFindings.splice(before);
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
		}
		const images = new Map<string, RawImage>();
		const refs: RawRef[] = [];
		for (const b of built) {
			const holders = b.topChain === undefined ? [] : (allSnapshotKeys.get(b.topChain) ?? []).filter(s => storeNames.includes(s));
			const here = holders.length > 0 ? holders.includes(sn) : sn === primary;
			if (!here) continue;
			images.set(b.image.id, b.image);
			append(refs, b.refs);
		}
		const snapshotIds = new Map<string, {key: string; kind: string}>();
		for (const r of backend?.map.values() ?? []) if (r.id !== undefined) snapshotIds.set(r.id, {key: r.key, kind: r.kind});
		const snapshots = new Map<string, {name?: string; parent?: string; id?: string; kind?: string}>();
		for (const rec of recordsHere.values()) {
			const b = rec.name === undefined ? undefined : backend?.map.get(rec.name);
			snapshots.set(rec.key, {...(rec.name !== undefined ? {name: rec.name} : {}), ...(rec.parent !== undefined ? {parent: rec.parent} : {}), ...(b?.id !== undefined ? {id: b.id} : {}), ...(b !== undefined ? {kind: b.kind} : {})});
		}
		stores.set(sn, {
			driver: sn,
			layout: 'containerd',
			refs,
			images,
			layers,
			mounts,
			findings: storeFindings,
			containerd: {metaDb: metaDbPath, snapshotterDb: backend?.path ?? `${snapshotterRoot(sn)}/metadata.db`, snapshotIds, snapshots, snapshotterDbRead: backend?.read ?? false},
		});
	}
	return {stores, findings};
}

/**
 * Follows an image's target to one platform's manifest and config. An index picks, in order:
 * the manifest a container of this image was created from (config.v2.json ImageManifest); the
 * one whose layers are unpacked (its top chain id is a snapshot); the first present; and says
 * so when several were equally possible (a copy of the root does not record the daemon's platform).
 */
function resolveTarget(
	read: BlobReader,
	target: Descriptor,
	subject: string,
	preferred: ReadonlySet<string> | undefined,
	snapshotKeys: ReadonlyMap<string, string[]>,
): {chosen?: Resolved; isIndex: boolean; blobs: RawBlob[]; findings: Finding[]} {
	const findings: Finding[] = [];
	const blobs: RawBlob[] = [];
	const t = read(target.digest, subject, 'manifest or index');
	const tJson = t.json;
	const isIndex = target.mediaType !== undefined ? indexTypes.has(target.mediaType) : tJson !== undefined && Array.isArray(tJson['manifests']);
	blobs.push({role: isIndex ? 'index' : 'manifest', digest: target.digest, path: blobPath(target.digest), present: t.present, ...(t.actual !== undefined ? {actual: t.actual} : {})});
	if (t.problem !== undefined) {
		findings.push(t.problem.code === 'content.blob-missing' ? {...t.problem, message: `its ${isIndex ? 'index' : 'manifest'} ${target.digest} (the image id) is not in the content store: its config, layers and history are unknown`} : t.problem);
	}
	if (tJson === undefined) return {isIndex, blobs, findings};
	if (!isIndex) {
		if (target.mediaType !== undefined && !manifestTypes.has(target.mediaType) && !Array.isArray(tJson['layers'])) {
			findings.push(finding('error', 'json.shape', subject, `its target has media type ${JSON.stringify(target.mediaType)}, not an image manifest or index`, blobPath(target.digest)));
			return {isIndex, blobs, findings};
		}
		// The target blob is the manifest itself (read already, from the cache now): its config.
		const m = readManifest(read, target, subject);
		append(blobs, m.blobs.filter(b => b.role !== 'manifest'));
		append(findings, m.findings);
		return {chosen: m, isIndex, blobs, findings};
	}
	// An index: collect the platform manifests (nested indexes followed a few levels).
	const leaves: Descriptor[] = [];
	const walk = (json: Record<string, unknown>, depth: number): void => {
		const list = json['manifests'];
		if (!Array.isArray(list)) {
			findings.push(finding('error', 'json.shape', subject, 'its index has no manifests list', blobPath(target.digest)));
			return;
		}
		for (const raw of list.slice(0, maxIndexEntries)) {
			const d = descriptor(raw);
			if (d === undefined || d.attestation) continue;
			if (d.mediaType !== undefined && indexTypes.has(d.mediaType)) {
				if (depth >= maxIndexDepth) continue;
				const nested = read(d.digest, subject, 'nested index');
				blobs.push({role: 'index', digest: d.digest, path: blobPath(d.digest), present: nested.present, ...(nested.actual !== undefined ? {actual: nested.actual} : {})});
				if (nested.json !== undefined) walk(nested.json, depth + 1);
				continue;
			}
			leaves.push(d);
		}
	};
	walk(tJson, 1);
	// Which are here: manifest and config present (what docker's GetImage accepts).
	const here: Resolved[] = [];
	const absent: Descriptor[] = [];
	for (const d of leaves) {
		const probe = read(d.digest, subject, 'manifest');
		if (!probe.present) {
			absent.push(d);
			continue;
		}
		const m = readManifest(read, d, subject);
		const ok = m.configJson !== undefined;
		if (ok) here.push(m);
		else absent.push(d);
	}
	const label = (d: Descriptor): string => d.platform ?? d.digest.slice(0, 19);
	if (here.length === 0) {
		findings.push(
			finding(
				'error',
				'content.blob-missing',
				subject,
				`its index lists ${leaves.length} platform manifest${leaves.length === 1 ? '' : 's'}${leaves.length > 0 ? ` (${leaves.slice(0, 8).map(label).join(', ')}${leaves.length > 8 ? ', …' : ''})` : ''}, but none is in the content store with its config: its layers and history are unknown`,
				blobPath(target.digest),
			),
		);
		return {isIndex, blobs, findings};
	}
	const unpacked = (m: Resolved): boolean => {
		const diffIds = strArray(obj(m.configJson?.['rootfs'])?.['diff_ids']);
		const chain = diffIds === undefined ? [] : chainIds(diffIds.filter(x => digestRe.test(x)));
		return chain.length === 0 || snapshotKeys.has(chain.at(-1)!);
	};
	let pool = here.filter(m => preferred?.has(m.manifest.digest) === true);
	let why = 'the manifest its containers were created from';
	if (pool.length === 0) {
		pool = here.filter(unpacked);
		why = 'unpacked into snapshots';
		if (pool.length === 0) {
			pool = here;
			why = 'present in the content store';
		}
	}
	const chosen = pool[0]!;
	if (pool.length > 1) {
		findings.push(
			finding(
				'info',
				'image.platform-ambiguous',
				subject,
				`its index has ${pool.length} platform manifests ${why} (${pool.map(m => label(m.manifest)).join(', ')}); layerlens shows the first, ${label(chosen.manifest)}: docker picks by the daemon's platform, which the root does not record`,
				blobPath(target.digest),
			),
		);
	}
	append(blobs, chosen.blobs);
	append(findings, chosen.findings);
	return {chosen, isIndex, blobs, findings};
}

/** One finding per driver whose layer content cannot be read from a copy of the root. */
export function driverNotes(driverDirs: readonly string[]): Finding[] {
	const out: Finding[] = [];
	for (const d of driverDirs) {
		if (!isDriverName(d)) continue;
		const info: DriverInfo = drivers[d];
		if (info.contentNote !== undefined) out.push(finding('info', 'driver.content-unreadable', `store:${d}`, info.contentNote, d));
	}
	return out;
}
