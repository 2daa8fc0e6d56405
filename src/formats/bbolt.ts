/**
 * A small read-only reader of bbolt (boltdb) files, the key/value databases Docker keeps its
 * volumes (`volumes/metadata.db`), networks (`network/files/local-kv.db`), BuildKit state and
 * containerd metadata (`meta.db`) in.
 *
 * Format (etcd-io/bbolt internal/common/{page.go,meta.go,bucket.go}, db.go; summarised in
 * the reference layout notes §5.5): the file is a sequence of pages of `pageSize` bytes. Pages 0 and 1 are
 * meta pages; the valid one with the highest txid wins. Each page has a 16-byte header
 * (u64 id, u16 flags, u16 count, u32 overflow); a page spans (overflow+1) pages. Branch elements
 * are (u32 pos, u32 ksize, u64 child), leaf elements (u32 flags, u32 pos, u32 ksize, u32 vsize),
 * with `pos` relative to the element itself. A leaf value with flag 0x01 is a bucket:
 * (u64 root, u64 sequence), followed, when root = 0, by an inline leaf page.
 *
 * Every byte is hostile: the reader works on a buffer, checks every offset against the page it
 * belongs to, refuses page ids outside the file, cuts cycles, bounds depth and the total work,
 * and reports problems as strings. It never throws on bad input.
 */

import {append} from '../append.ts';

const magic = 0xed0cdaed;
const pageHeaderSize = 16;
const elementSize = 16;
const flagBranch = 0x01;
const flagLeaf = 0x02;
const flagMeta = 0x04;
const bucketLeafFlag = 0x01;
/** Deepest branch nesting followed in one bucket (real trees are a handful deep). */
const maxTreeDepth = 64;
/** Deepest bucket nesting followed. */
const maxBucketDepth = 64;
/** Bytes of pages one database may make the reader visit, across all reads, beyond 16 times its size (a damaged file can point pages and buckets at each other). */
const defaultBudget = 64 * 1024 * 1024;

export type BoltMeta = {
	/** Which meta page (0 or 1). */
	readonly page: 0 | 1;
	readonly pageSize: number;
	readonly version: number;
	readonly flags: number;
	readonly root: number;
	readonly freelist: number;
	/** High-water mark: pages in use. */
	readonly pgid: number;
	readonly txid: number;
	readonly checksum: bigint;
	/** 'ok' (FNV-1a matches), 'zero' (no checksum: boltdb before v1.2.1 wrote none on the initial meta pages). */
	readonly checksumState: 'ok' | 'zero';
};

/** A bucket: its root page, or an inline page inside its parent's leaf value. */
export type BoltBucketRef = {
	readonly root: number;
	readonly sequence: bigint;
	/** The inline page (header + elements), when root is 0. */
	readonly inline?: Buffer;
	/** Nesting level: 0 for the root bucket. */
	readonly depth: number;
	/** Key path from the root, for messages. */
	readonly path: readonly string[];
};

export type BoltEntry =
	| {readonly key: Buffer; readonly value: Buffer; readonly bucket?: undefined}
	| {readonly key: Buffer; readonly bucket: BoltBucketRef; readonly value?: undefined};

export type BoltBucketRead = {
	/** Entries in the order found (bbolt keeps them sorted bytewise). */
	readonly entries: BoltEntry[];
	/** What was wrong; the entries are what could be read. */
	readonly errors: string[];
};

export type Bolt = {
	readonly size: number;
	readonly meta: BoltMeta;
	readonly littleEndian: boolean;
	/** Problems with the meta pages that did not stop reading (the other meta was used). */
	readonly warnings: string[];
	readonly root: BoltBucketRef;
	/** Reads one bucket's entries (keys and values, and nested buckets as refs, not followed). */
	entries(bucket: BoltBucketRef): BoltBucketRead;
	/** True once the reading budget is spent: every later read returns nothing. */
	readonly exhausted: boolean;
};

export type BoltOpen = {readonly ok: true; readonly db: Bolt} | {readonly ok: false; readonly error: string};

/** FNV-1a 64 (hash/fnv New64a), as bbolt checksums its meta. */
export function fnv1a64(bytes: Uint8Array): bigint {
	let h = 0xcbf29ce484222325n;
	for (const b of bytes) {
		h ^= BigInt(b);
		h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
	}
	return h;
}

type Reader = {
	u16(b: Buffer, off: number): number;
	u32(b: Buffer, off: number): number;
	/** A u64 as a number; Infinity when it does not fit in 2^53 (treated as out of range). */
	u64(b: Buffer, off: number): number;
	big(b: Buffer, off: number): bigint;
};

function reader(le: boolean): Reader {
	return {
		u16: (b, off) => (le ? b.readUInt16LE(off) : b.readUInt16BE(off)),
		u32: (b, off) => (le ? b.readUInt32LE(off) : b.readUInt32BE(off)),
		u64: (b, off) => {
			const v = le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off);
			return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
		},
		big: (b, off) => (le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off)),
	};
}

type MetaTry = {ok: true; meta: BoltMeta; le: boolean} | {ok: false; error: string};

/** Decodes the meta at byte offset `at` (the page start). */
function readMeta(buf: Buffer, at: number, page: 0 | 1): MetaTry {
	if (at + 80 > buf.length) return {ok: false, error: `meta page ${page} is beyond the end of the file`};
	let le: boolean;
	if (buf.readUInt32LE(at + 16) === magic) le = true;
	else if (buf.readUInt32BE(at + 16) === magic) le = false;
	else return {ok: false, error: `meta page ${page} has no bbolt magic`};
	const r = reader(le);
	const flags = r.u16(buf, at + 8);
	if ((flags & flagMeta) === 0)
		return {ok: false, error: `meta page ${page} is not flagged as a meta page (flags 0x${flags.toString(16)})`};
	const version = r.u32(buf, at + 20);
	if (version !== 2) return {ok: false, error: `meta page ${page} has version ${version}, not 2`};
	const pageSize = r.u32(buf, at + 24);
	if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) {
		return {ok: false, error: `meta page ${page} has an implausible page size ${pageSize}`};
	}
	const checksum = r.big(buf, at + 72);
	const sum = fnv1a64(buf.subarray(at + 16, at + 72));
	let checksumState: 'ok' | 'zero';
	if (checksum === sum) checksumState = 'ok';
	else if (checksum === 0n) checksumState = 'zero';
	else
		return {
			ok: false,
			error: `meta page ${page} checksum 0x${checksum.toString(16)} does not match its content (0x${sum.toString(16)})`,
		};
	return {
		ok: true,
		le,
		meta: {
			page,
			pageSize,
			version,
			flags: r.u32(buf, at + 28),
			root: r.u64(buf, at + 32),
			freelist: r.u64(buf, at + 48),
			pgid: r.u64(buf, at + 56),
			txid: r.u64(buf, at + 64),
			checksum,
			checksumState,
		},
	};
}

/** Page sizes tried to find meta page 1 when meta page 0 is unreadable. */
const candidatePageSizes = [4096, 16384, 65536, 8192, 32768, 2048, 1024, 512];

/** The meta page to read by (the valid one with the highest txid) and what was wrong with the other; an error when neither is valid. */
function chooseMeta(
	buf: Buffer,
): {ok: true; chosen: Extract<MetaTry, {ok: true}>; warnings: string[]} | {ok: false; error: string} {
	const m0 = readMeta(buf, 0, 0);
	const tries: MetaTry[] = [m0];
	if (m0.ok) tries.push(readMeta(buf, m0.meta.pageSize, 1));
	else {
		for (const size of candidatePageSizes) {
			const t = readMeta(buf, size, 1);
			if (t.ok && t.meta.pageSize === size) {
				tries.push(t);
				break;
			}
		}
		if (tries.length === 1) tries.push({ok: false, error: 'meta page 1 not found at any usual page size'});
	}
	const valid = tries.filter((t): t is Extract<MetaTry, {ok: true}> => t.ok);
	const warnings = tries.filter((t): t is Extract<MetaTry, {ok: false}> => !t.ok).map(t => t.error);
	if (valid.length === 0) return {ok: false, error: `not a readable bbolt database: ${warnings.join('; ')}`};
	// The newest transaction wins; on a tie (or different byte orders) keep page 0.
	valid.sort((a, b) => b.meta.txid - a.meta.txid || a.meta.page - b.meta.page);
	const chosen = valid[0]!;
	for (const v of valid) {
		if (v.meta.checksumState === 'zero')
			warnings.push(`meta page ${v.meta.page} has no checksum (written by boltdb before v1.2.1); accepted`);
	}
	if (valid.length === 2 && valid[0]!.meta.pageSize !== valid[1]!.meta.pageSize) {
		warnings.push(
			`the meta pages disagree on the page size (${valid[0]!.meta.pageSize} and ${valid[1]!.meta.pageSize})`,
		);
	}
	return {ok: true, chosen, warnings};
}

/**
 * Opens a bbolt file held in memory. Picks the valid meta page with the highest txid (a meta
 * with a zero checksum is valid: boltdb before v1.2.1 wrote none); fails only when neither meta
 * page is valid.
 */
export function openBolt(
	buf: Buffer,
	opts: {/** Bytes of pages the reader may visit in all. */ budget?: number} = {},
): BoltOpen {
	if (buf.length < 1024) return {ok: false, error: `file is ${buf.length} bytes, too small for a bbolt database`};
	const picked = chooseMeta(buf);
	if (!picked.ok) return picked;
	const {chosen, warnings} = picked;
	const meta = chosen.meta;
	const pages = new BoltPages(buf, reader(chosen.le), meta, opts.budget ?? defaultBudget + 16 * buf.length);
	const root: BoltBucketRef = {root: meta.root, sequence: 0n, depth: 0, path: []};
	return {
		ok: true,
		db: {
			size: buf.length,
			meta,
			littleEndian: chosen.le,
			warnings,
			root,
			entries: bucket => pages.entries(bucket),
			get exhausted() {
				return pages.budget <= 0;
			},
		},
	};
}

type Span = {buf: Buffer; start: number; end: number; id: number};

/** One bucket's read in progress: where it is (for messages), the pages it has seen, what it collects. */
type BucketWalk = {
	readonly bucket: BoltBucketRef;
	readonly where: string;
	readonly seen: Set<number>;
	readonly out: BoltEntry[];
	readonly errors: string[];
};

/** The pages of an open database, and the reading budget all its reads share. */
class BoltPages {
	/** Bytes of pages the reader may still visit. */
	budget: number;
	private readonly buf: Buffer;
	private readonly r: Reader;
	private readonly meta: BoltMeta;
	private readonly pagesInFile: number;

	constructor(buf: Buffer, r: Reader, meta: BoltMeta, budget: number) {
		this.buf = buf;
		this.r = r;
		this.meta = meta;
		this.budget = budget;
		this.pagesInFile = Math.floor(buf.length / meta.pageSize);
	}

	/** A page by id, bounds-checked against the file. */
	private page(id: number): Span | string {
		const {buf, r, meta, pagesInFile} = this;
		const pageSize = meta.pageSize;
		if (!Number.isSafeInteger(id) || id < 2 || id >= pagesInFile)
			return `page id ${id} is outside the file (${pagesInFile} pages)`;
		if (meta.pgid >= 2 && id >= meta.pgid) return `page id ${id} is beyond the high-water mark ${meta.pgid}`;
		const start = id * pageSize;
		const headerId = r.u64(buf, start);
		if (headerId !== id) return `page ${id} says it is page ${headerId}`;
		const overflow = r.u32(buf, start + 12);
		const end = start + (overflow + 1) * pageSize;
		if (end > buf.length) return `page ${id} overflows ${overflow} pages past the end of the file`;
		return {buf, start, end, id};
	}

	entries(bucket: BoltBucketRef): BoltBucketRead {
		const out: BoltEntry[] = [];
		const errors: string[] = [];
		if (this.budget <= 0)
			return {
				entries: out,
				errors: ['the reading budget is spent (a damaged file pointing pages or buckets at each other?); not read'],
			};
		const where =
			bucket.path.length === 0
				? 'root bucket'
				: `bucket ${bucket.path
						.slice(0, 8)
						.map(p => JSON.stringify(p.slice(0, 80)))
						.join('/')}${bucket.path.length > 8 ? '/…' : ''}`;
		if (bucket.depth > maxBucketDepth)
			return {entries: out, errors: [`${where}: nested deeper than ${maxBucketDepth} buckets; not read`]};
		const walk: BucketWalk = {bucket, where, seen: new Set<number>(), out, errors};
		if (bucket.inline !== undefined) {
			this.visit(walk, {buf: bucket.inline, start: 0, end: bucket.inline.length, id: 0}, 0);
			// Inline pages are leaves; a branch flag inside one would point at pages: visit() follows it with the usual checks.
		} else {
			walk.seen.add(bucket.root);
			const p = this.page(bucket.root);
			if (typeof p === 'string') errors.push(`${where}: ${p}`);
			else this.visit(walk, p, 0);
		}
		return {entries: out, errors};
	}

	private visit(walk: BucketWalk, span: Span, depth: number): void {
		const {where, errors} = walk;
		if (this.budget <= 0) {
			errors.push(`${where}: the reading budget is spent (a damaged file pointing pages at each other?); stopped`);
			return;
		}
		const {buf: b, start, end} = span;
		if (start + pageHeaderSize > end) {
			errors.push(`${where}: page ${span.id} is too short for its header`);
			return;
		}
		const flags = this.r.u16(b, start + 8);
		const count = this.r.u16(b, start + 10);
		if (start + pageHeaderSize + count * elementSize > end) {
			errors.push(`${where}: page ${span.id} claims ${count} elements, more than it holds`);
			return;
		}
		this.budget -= end - start + 1;
		if (flags & flagBranch) {
			if (depth >= maxTreeDepth) errors.push(`${where}: branch pages nested deeper than ${maxTreeDepth}; not followed`);
			else this.visitBranch(walk, span, count, depth);
			return;
		}
		if ((flags & flagLeaf) === 0) {
			errors.push(`${where}: page ${span.id} is neither a branch nor a leaf page (flags 0x${flags.toString(16)})`);
			return;
		}
		this.visitLeaf(walk, span, count);
	}

	private visitBranch(walk: BucketWalk, span: Span, count: number, depth: number): void {
		const {where, errors, seen} = walk;
		for (let i = 0; i < count; i++) {
			const el = span.start + pageHeaderSize + i * elementSize;
			const child = this.r.u64(span.buf, el + 8);
			if (seen.has(child)) {
				errors.push(`${where}: page ${child} is reached twice (a cycle); not followed again`);
				continue;
			}
			seen.add(child);
			const p = this.page(child);
			if (typeof p === 'string') {
				errors.push(`${where}: ${p}`);
				continue;
			}
			this.visit(walk, p, depth + 1);
			if (this.budget <= 0) return;
		}
	}

	private visitLeaf(walk: BucketWalk, span: Span, count: number): void {
		const {where, errors, out, bucket} = walk;
		const r = this.r;
		const {buf: b, start, end} = span;
		for (let i = 0; i < count; i++) {
			const el = start + pageHeaderSize + i * elementSize;
			const eflags = r.u32(b, el);
			const pos = r.u32(b, el + 4);
			const ksize = r.u32(b, el + 8);
			const vsize = r.u32(b, el + 12);
			const kStart = el + pos;
			const vEnd = kStart + ksize + vsize;
			if (vEnd > end || kStart < el) {
				errors.push(`${where}: element ${i} of page ${span.id} points outside its page`);
				continue;
			}
			const key = b.subarray(kStart, kStart + ksize);
			const value = b.subarray(kStart + ksize, vEnd);
			if ((eflags & bucketLeafFlag) === 0) {
				out.push({key, value});
				continue;
			}
			const name = key.toString('utf8');
			if (value.length < 16) {
				errors.push(`${where}: nested bucket ${JSON.stringify(name)} has a ${value.length}-byte header; not read`);
				continue;
			}
			const root = r.u64(value, 0);
			const sequence = r.big(value, 8);
			const path = [...bucket.path, name];
			if (root === 0) {
				out.push({key, bucket: {root: 0, sequence, inline: value.subarray(16), depth: bucket.depth + 1, path}});
			} else {
				out.push({key, bucket: {root, sequence, depth: bucket.depth + 1, path}});
			}
		}
	}
}

/** The nested bucket `name` of `bucket`, if there is one. */
function subBucket(db: Bolt, bucket: BoltBucketRef, name: string): {bucket?: BoltBucketRef; errors: string[]} {
	const read = db.entries(bucket);
	const hit = read.entries.find(e => e.bucket !== undefined && e.key.toString('utf8') === name);
	return hit?.bucket !== undefined ? {bucket: hit.bucket, errors: read.errors} : {errors: read.errors};
}

/** Follows a path of bucket names from the root. */
export function bucketAt(db: Bolt, path: readonly string[]): {bucket?: BoltBucketRef; errors: string[]} {
	let cur: BoltBucketRef = db.root;
	const errors: string[] = [];
	for (const name of path) {
		const r = subBucket(db, cur, name);
		append(errors, r.errors);
		if (r.bucket === undefined) return {errors};
		cur = r.bucket;
	}
	return {bucket: cur, errors};
}

/** A JSON-friendly tree of a whole database, for tests and debugging: keys as UTF-8 (or `hex:…`), values as UTF-8 or `hex:…`. */
export type BoltDump = {[key: string]: string | BoltDump};

function show(b: Buffer): string {
	const s = b.toString('utf8');
	return Buffer.from(s, 'utf8').equals(b) && !/[\0-\x08\x0e-\x1f]/.test(s) ? s : `hex:${b.toString('hex')}`;
}

export function dumpBolt(db: Bolt, bucket: BoltBucketRef = db.root, errors: string[] = []): BoltDump {
	const out: BoltDump = {};
	const read = db.entries(bucket);
	append(errors, read.errors);
	for (const e of read.entries) {
		if (db.exhausted) break;
		const k = show(e.key);
		Object.defineProperty(out, k, {
			value: e.bucket !== undefined ? dumpBolt(db, e.bucket, errors) : show(e.value),
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return out;
}
