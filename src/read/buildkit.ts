import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {type Bolt, type BoltBucketRef, bucketAt} from '../formats/bbolt.ts';
import {type Source, byString} from '../sources/source.ts';
import {readBolt} from './volumes.ts';

/**
 * BuildKit's build cache (what `docker buildx du` and `docker system df`'s "Build Cache" show):
 * `buildkit/metadata_v2.db` (graph-driver mode) or `buildkit/<worker>/metadata_v2.db` (containerd
 * store: `containerd-overlayfs`), a bbolt file whose bucket `_main` holds one bucket per cache
 * record (moby/buildkit cache/metadata/metadata.go, cache/metadata.go): keys such as
 * `cache.description`, `cache.createdAt` (Unix nanoseconds), `snapshot.size`, each a JSON
 * `{"value": ...}`. The records' files are snapshots of the builder's own snapshotter, so this
 * reader lists records and their sizes; it does not look inside them.
 */
/**
 * A BuildKit snapshot's directory in a graph driver's directory (`overlay2/<id>`): BuildKit's own
 * 25-character ids (moby/buildkit identity.NewID, base32 lower case), where no layer id (64 hex) can be.
 * Only on a root that has `buildkit/`: its build cache, which `docker builder prune` removes.
 */
export const buildkitSnapshotName = /^[a-z0-9]{25}$/;

export type RawBuildRecord = {
	readonly id: string;
	readonly description?: string;
	/** `cache.recordType`: `regular`, `source.local`, `exec.cachemount`, `frontend`, `internal`. */
	readonly recordType?: string;
	/** `snapshot.size`: bytes, as BuildKit measured the snapshot. */
	readonly size?: number;
	readonly createdAt?: string;
	readonly lastUsedAt?: string;
	readonly usageCount?: number;
	/** Parent record id. */
	readonly parent?: string;
	/** The snapshot was committed (false: a mutable record). */
	readonly committed?: boolean;
	readonly diffId?: string;
	readonly chainId?: string;
	readonly blob?: string;
	readonly mediaType?: string;
};

export type RawBuildCache = {
	/** The metadata_v2.db files read, relative to the root. */
	readonly databases: string[];
	readonly records: RawBuildRecord[];
	readonly findings: Finding[];
};

const subject = 'store:buildkit';
/** Most records read from one database (a build host has thousands; a hostile file could claim millions). */
const maxRecords = 200_000;

/** The bytes of a `{"value": X}` field: X parsed, or undefined (not JSON, another shape, over 1 MiB). */
function parsedValue(bytes: Buffer | undefined): unknown {
	if (bytes === undefined || bytes.length === 0 || bytes.length > 1 << 20) return undefined;
	try {
		const o: unknown = JSON.parse(bytes.toString('utf8'));
		return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>).value : undefined;
	} catch {
		return undefined;
	}
}

function stringValue(bytes: Buffer | undefined): string | undefined {
	const v = parsedValue(bytes);
	return typeof v === 'string' ? v : undefined;
}

/** A JSON integer as a number (sizes, counts), when it is a safe integer. */
function intValue(bytes: Buffer | undefined): number | undefined {
	const v = parsedValue(bytes);
	return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

function boolValue(bytes: Buffer | undefined): boolean | undefined {
	const v = parsedValue(bytes);
	return typeof v === 'boolean' ? v : undefined;
}

/**
 * Unix nanoseconds as ISO 8601 with nanoseconds. The digits are taken from the text (a double
 * cannot hold them exactly), once JSON.parse has said the field is `{"value": <integer>}`.
 */
function nanosValue(bytes: Buffer | undefined): string | undefined {
	const v = parsedValue(bytes);
	if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return undefined;
	const digits = /"value"\s*:\s*(\d{1,19})(?!\d)/.exec(bytes!.toString('utf8'))?.[1];
	if (digits === undefined) return undefined;
	const ns = BigInt(digits);
	const d = new Date(Number(ns / 1_000_000n));
	if (Number.isNaN(d.getTime())) return undefined;
	return `${d.toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

function readRecord(db: Bolt, id: string, bucket: BoltBucketRef, problems: string[]): RawBuildRecord {
	const read = db.entries(bucket);
	append(problems, read.errors);
	const f = new Map<string, Buffer>();
	for (const e of read.entries) if (e.value !== undefined) f.set(e.key.toString('utf8'), e.value);
	const s = (k: string) => stringValue(f.get(k));
	const out: Record<string, unknown> = {id};
	const put = (key: keyof RawBuildRecord, v: unknown): void => {
		if (v !== undefined) out[key] = v;
	};
	put('description', s('cache.description'));
	put('recordType', s('cache.recordType'));
	put('size', intValue(f.get('snapshot.size')));
	put('createdAt', nanosValue(f.get('cache.createdAt')));
	put('lastUsedAt', nanosValue(f.get('cache.lastUsedAt')));
	// BuildKit reads an absent count as 0 (cache/metadata.go getUsageCount).
	put('usageCount', f.has('cache.usageCount') ? intValue(f.get('cache.usageCount')) : 0);
	put('parent', s('cache.parent'));
	put('committed', boolValue(f.get('snapshot.committed')));
	put('diffId', s('cache.diffID'));
	put('chainId', s('cache.chainID'));
	put('blob', s('cache.blob'));
	put('mediaType', s('cache.mediatype'));
	return out as RawBuildRecord;
}

/** Where BuildKit keeps its cache metadata: buildkit/metadata_v2.db and buildkit/<worker>/metadata_v2.db. */
function databases(source: Source): string[] {
	const out: string[] = [];
	if (source.stat('buildkit/metadata_v2.db').ok) out.push('buildkit/metadata_v2.db');
	const listed = source.list('buildkit');
	if (listed.ok) {
		for (const e of [...listed.value].sort((a, b) => byString(a.name, b.name))) {
			if (e.kind === 'dir' && source.stat(`buildkit/${e.name}/metadata_v2.db`).ok)
				out.push(`buildkit/${e.name}/metadata_v2.db`);
		}
	}
	return out;
}

export function readBuildCache(source: Source): RawBuildCache {
	const findings: Finding[] = [];
	const records: RawBuildRecord[] = [];
	const dbs = databases(source);
	for (const rel of dbs) {
		const bolt = readBolt(source, rel, subject, `BuildKit cache metadata ${rel}`);
		append(findings, bolt.findings);
		if (bolt.db === undefined) continue;
		const db = bolt.db;
		const main = bucketAt(db, ['_main']);
		if (main.bucket === undefined) {
			if (main.errors.length > 0)
				findings.push(finding('error', 'db.damaged', subject, `${rel}: ${main.errors.join('; ')}`, rel));
			continue;
		}
		const read = db.entries(main.bucket);
		const problems: string[] = [...read.errors];
		let n = 0;
		for (const e of read.entries) {
			if (e.bucket === undefined) continue;
			if (++n > maxRecords) {
				problems.push(`more than ${maxRecords} records; the rest are not read`);
				break;
			}
			records.push(readRecord(db, e.key.toString('utf8'), e.bucket, problems));
		}
		if (problems.length > 0)
			findings.push(
				finding('error', 'db.damaged', subject, `${rel}: ${[...new Set(problems)].slice(0, 5).join('; ')}`, rel),
			);
	}
	return {databases: dbs, records, findings};
}
