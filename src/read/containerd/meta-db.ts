import {append} from '../../append.ts';
import {type Finding, finding} from '../../finding.ts';
import {type Bolt, type BoltBucketRef, type BoltEntry, bucketAt} from '../../formats/bbolt.ts';
import {type Source, byString} from '../../sources/source.ts';
import type {RawRef} from '../image-store.ts';
import {digest as digestRe} from '../json-files.ts';
import {readBolt} from '../volumes.ts';

/**
 * containerd's own database, `meta.db` (bbolt; containerd core/metadata), namespace `moby`:
 * `images/<name>/{target/{digest,mediatype,size},labels/,createdat,updatedat}` and
 * `snapshots/<snapshotter>/<key>/{name,parent,createdat}`, where a layer's key is its chain id, a
 * container's RW snapshot is keyed by the container id and its parent is `<id>-init`, whose parent
 * is the image's top chain id (moby daemon/containerd/image_snapshot.go). Also the value encodings
 * containerd's bbolt files share (varints, Go binary times) and image names as docker prints them.
 */
export const containerdRoot = 'containerd/daemon';
export const metaDbPath = `${containerdRoot}/io.containerd.metadata.v1.bolt/meta.db`;

/** The name Docker gives an untagged image record (daemon/containerd/image.go danglingImageName). */
const danglingPrefix = 'moby-dangling@';
const imageParentLabel = 'org.mobyproject.image.parent';

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
	if (b.length < 15 || (b[0] !== 1 && b[0] !== 2) || (b[0] === 1 && b.length !== 15) || (b[0] === 2 && b.length !== 16))
		return undefined;
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
		if (repo.startsWith('library/') && !repo.slice('library/'.length).includes('/'))
			repo = repo.slice('library/'.length);
	}
	return {repo, ...(tag !== undefined ? {tag} : {}), ...(digest !== undefined ? {digest} : {})};
}

// ---- bbolt helpers (shared with the snapshotters' metadata.db)

type Fields = {values: Map<string, Buffer>; buckets: Map<string, BoltBucketRef>};

/** A bucket's values and nested buckets by key; what cannot be read is added to `errors`. */
export function fields(db: Bolt, bucket: BoltBucketRef, errors: string[]): Fields {
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
	for (const [k, v] of fields(db, ref, errors).values)
		Object.defineProperty(out, k, {value: v.toString('utf8'), enumerable: true, writable: true, configurable: true});
	return out;
}

// ---- records

export type ImageRecord = {
	readonly name: string;
	readonly digest?: string;
	readonly mediaType?: string;
	readonly size?: number;
	readonly labels: Record<string, string>;
	readonly updatedAt?: string;
	readonly createdAt?: string;
};

export type SnapshotRecord = {
	readonly key: string;
	readonly name?: string;
	readonly parent?: string;
	readonly createdAt?: string;
};

/** The image records of meta.db namespace moby: `images/<name>` with its target descriptor, labels and times. */
function readImageRecords(
	db: Bolt,
	imagesRef: BoltBucketRef | undefined,
	errors: string[],
	findings: Finding[],
): ImageRecord[] {
	const records: ImageRecord[] = [];
	if (imagesRef === undefined) return records;
	const subject = 'store:containerd';
	const list = db.entries(imagesRef);
	append(errors, list.errors);
	for (const e of list.entries) {
		const name = e.key.toString('utf8');
		if (e.bucket === undefined) {
			findings.push(
				finding(
					'error',
					'db.shape',
					subject,
					`meta.db: image record ${JSON.stringify(name.slice(0, 200))} is not a bucket`,
					metaDbPath,
				),
			);
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
function readSnapshotRecords(
	db: Bolt,
	snapshotsRef: BoltBucketRef | undefined,
	errors: string[],
): Map<string, Map<string, SnapshotRecord>> {
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
			map.set(key, {
				key,
				...(name !== undefined ? {name} : {}),
				...(parent !== undefined && parent !== '' ? {parent} : {}),
				...(createdAt !== undefined ? {createdAt} : {}),
			});
		}
		snapshotRecords.set(sn, map);
	}
	return snapshotRecords;
}

type MetaDb = {readonly images: ImageRecord[]; readonly snapshots: Map<string, Map<string, SnapshotRecord>>};

const quoted = (list: readonly string[]): string => list.map(s => `"${s}"`).join(', ');

/** Why meta.db is absent, when containers (using the snapshotters `used`) need it. */
function absentFinding(source: Source, used: readonly string[]): Finding {
	return finding(
		'error',
		'layout.containerd-store',
		'root',
		source.mounted === undefined
			? `containers use the containerd snapshotter ${quoted(used)}, but ${metaDbPath} is absent: dockerd used a containerd it did not start (a system containerd, whose root is /var/lib/containerd unless configured otherwise), so the images, content blobs and snapshots are in that containerd's root, outside this Docker root, and these containers show no layer chain; pass --containerd-root /var/lib/containerd (or the copy of it taken with this root, a directory or an archive) to read them`
			: `containers use the containerd snapshotter ${quoted(used)}, but the containerd root given with --containerd-root (${source.mounted.location}) has no io.containerd.metadata.v1.bolt/meta.db, so these containers show no layer chain`,
	);
}

/**
 * Reads meta.db's namespace moby: its image and snapshot records. Undefined when there is none
 * (absent, unreadable, not bbolt, or without the namespace); containers using the snapshotters
 * `used` then show no chain, and a finding says why.
 */
export function readMetaDb(source: Source, used: readonly string[], findings: Finding[]): MetaDb | undefined {
	const subject = 'store:containerd';
	const bolt = readBolt(source, metaDbPath, subject, 'containerd meta.db');
	if (bolt.db === undefined) {
		if (bolt.missing) {
			if (used.length > 0) findings.push(absentFinding(source, used));
			return undefined;
		}
		// Unreadable or not bbolt: nothing of the store can be read; the containers are still listed.
		append(findings, bolt.findings);
		return undefined;
	}
	const db = bolt.db;
	append(findings, bolt.findings);
	const errors: string[] = [];
	const damaged = (where: string): void => {
		for (const e of errors.splice(0))
			findings.push(finding('error', 'db.damaged', subject, `${where}: ${e}`, metaDbPath));
	};
	const ns = bucketAt(db, ['v1', 'moby']);
	append(errors, ns.errors);
	damaged('containerd meta.db');
	if (ns.bucket === undefined) {
		if (used.length > 0) {
			findings.push(
				finding(
					'error',
					'layout.containerd-store',
					'root',
					`containers use the containerd snapshotter ${quoted(used)}, but ${metaDbPath} has no namespace "moby" (bucket v1/moby): Docker's images and snapshots are not in it, so these containers show no layer chain`,
					metaDbPath,
				),
			);
		}
		return undefined;
	}
	const top = fields(db, ns.bucket, errors);
	damaged('containerd meta.db, namespace moby');
	const images = readImageRecords(db, top.buckets.get('images'), errors, findings);
	damaged('containerd meta.db, images');
	const snapshots = readSnapshotRecords(db, top.buckets.get('snapshots'), errors);
	damaged('containerd meta.db, snapshots');
	return {images, snapshots};
}

/** Image records grouped by target digest (several names can point to one image); a record without a valid digest is a finding. */
export function recordsByTarget(records: readonly ImageRecord[], findings: Finding[]): Map<string, ImageRecord[]> {
	const byTarget = new Map<string, ImageRecord[]>();
	for (const r of records) {
		if (r.digest === undefined || !digestRe.test(r.digest)) {
			findings.push(
				finding(
					'error',
					'db.shape',
					'store:containerd',
					`meta.db: image ${JSON.stringify(r.name.slice(0, 200))} has no valid target digest`,
					metaDbPath,
				),
			);
			continue;
		}
		const list = byTarget.get(r.digest) ?? [];
		list.push(r);
		byTarget.set(r.digest, list);
	}
	return byTarget;
}

type ImageNames = {readonly refs: RawRef[]; readonly parent?: string; readonly lastUpdated?: string};

/** What one image's records (sorted by name) say: its tags and digests as docker shows them, its parent label and when it was last updated. */
export function imageNames(id: string, records: readonly ImageRecord[], findings: Finding[]): ImageNames {
	const subject = `image:${id}`;
	const refs: RawRef[] = [];
	const digests = new Set<string>();
	let lastUpdated: string | undefined;
	const parents = new Set<string>();
	for (const r of records) {
		if (r.updatedAt !== undefined && (lastUpdated === undefined || timeKey(r.updatedAt) > timeKey(lastUpdated)))
			lastUpdated = r.updatedAt;
		const p = r.labels[imageParentLabel];
		if (p !== undefined && p !== '') parents.add(p);
		if (r.name.startsWith(danglingPrefix)) continue;
		const ref = familiarRef(r.name);
		if (ref === undefined) {
			findings.push(
				finding(
					'warning',
					'db.shape',
					subject,
					`meta.db: image name ${JSON.stringify(r.name.slice(0, 200))} is not a valid reference; not shown as a tag`,
					metaDbPath,
				),
			);
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
	const parent = imageParent(subject, parents, findings);
	return {refs, ...(parent !== undefined ? {parent} : {}), ...(lastUpdated !== undefined ? {lastUpdated} : {})};
}

/** The parent the records' labels name (the first when they disagree, which is a finding). */
function imageParent(subject: string, parents: ReadonlySet<string>, findings: Finding[]): string | undefined {
	if (parents.size === 0) return undefined;
	const list = [...parents].sort(byString);
	if (list.length > 1)
		findings.push(
			finding(
				'warning',
				'image.parent-invalid',
				subject,
				`its records name ${list.length} different parents (${list.join(', ')}); the first is shown`,
				metaDbPath,
			),
		);
	if (digestRe.test(list[0]!)) return list[0];
	findings.push(
		finding('error', 'image.parent-invalid', subject, `the ${imageParentLabel} label is not an image id`, metaDbPath),
	);
	return undefined;
}
