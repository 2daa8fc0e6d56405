// A tiny bbolt *writer* for tests: builds database files in code, to the format of
// etcd-io/bbolt (internal/common/{page.go,meta.go,bucket.go}; the reference layout notes §5.5), so the reader
// can be tested on branch pages, overflow pages, inline and nested buckets, both byte orders and
// old zero-checksum metas, and so containerd's meta.db can be built where no real one can be made.
import {fnv1a64} from '../../src/formats/bbolt.ts';

export type WValue = Buffer | string | WBucket;
export type WBucket = {bucket: Array<[Buffer | string, WValue]>; sequence?: number};

export const wb = (entries: Record<string, WValue> | Array<[Buffer | string, WValue]>): WBucket => ({
	bucket: Array.isArray(entries) ? entries : Object.entries(entries),
});

export type WriterOpts = {
	pageSize?: number;
	/** Most elements per leaf or branch page (small values force branch pages). */
	perPage?: number;
	/** Buckets whose encoded leaf is at most this many bytes, and that hold no buckets, are stored inline (bbolt: pageSize/4). */
	inlineMax?: number;
	bigEndian?: boolean;
	/** Write this meta page with checksum 0 (as boltdb before v1.2.1 did for the initial metas). */
	zeroChecksumMeta?: 0 | 1;
	txid?: number;
};

const buf = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
const isBucket = (v: WValue): v is WBucket => typeof v === 'object' && !Buffer.isBuffer(v);

export function writeBolt(root: WBucket, opts: WriterOpts = {}): Buffer {
	const ps = opts.pageSize ?? 4096;
	const per = opts.perPage ?? 64;
	const inlineMax = opts.inlineMax ?? ps / 4;
	const be = opts.bigEndian ?? false;
	const pages = new Map<number, Buffer>();
	let next = 2;
	const u16 = (b: Buffer, o: number, v: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
	const u32 = (b: Buffer, o: number, v: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
	const u64 = (b: Buffer, o: number, v: number | bigint) =>
		be ? b.writeBigUInt64BE(BigInt(v), o) : b.writeBigUInt64LE(BigInt(v), o);

	/** Encodes a leaf page body (header + elements + data) for entries [key, value, isBucketFlag]. */
	const leafBytes = (id: number, els: Array<[Buffer, Buffer, boolean]>): Buffer => {
		const size = 16 + 16 * els.length + els.reduce((n, [k, v]) => n + k.length + v.length, 0);
		const b = Buffer.alloc(size);
		u64(b, 0, id);
		u16(b, 8, 0x02);
		u16(b, 10, els.length);
		let data = 16 + 16 * els.length;
		els.forEach(([k, v, bucket], i) => {
			const el = 16 + 16 * i;
			u32(b, el, bucket ? 1 : 0);
			u32(b, el + 4, data - el);
			u32(b, el + 8, k.length);
			u32(b, el + 12, v.length);
			k.copy(b, data);
			v.copy(b, data + k.length);
			data += k.length + v.length;
		});
		return b;
	};
	const place = (body: Buffer): number => {
		const n = Math.max(1, Math.ceil(body.length / ps));
		const id = next;
		next += n;
		const page = Buffer.alloc(n * ps);
		body.copy(page);
		u64(page, 0, id);
		u32(page, 12, n - 1);
		pages.set(id, page);
		return id;
	};
	const writeBucket = (b: WBucket): number => {
		const els: Array<[Buffer, Buffer, boolean]> = [];
		const sorted = [...b.bucket].map(([k, v]) => [buf(k), v] as const).sort((x, y) => Buffer.compare(x[0], y[0]));
		for (const [k, v] of sorted) {
			if (!isBucket(v)) {
				els.push([k, buf(v), false]);
				continue;
			}
			const header = Buffer.alloc(16);
			u64(header, 8, v.sequence ?? 0);
			const leafOnly = v.bucket.every(([, x]) => !isBucket(x));
			if (leafOnly) {
				const inner = leafBytes(
					0,
					[...v.bucket]
						.map(([kk, vv]) => [buf(kk), buf(vv as Buffer | string), false] as [Buffer, Buffer, boolean])
						.sort((x, y) => Buffer.compare(x[0], y[0])),
				);
				if (inner.length <= inlineMax) {
					els.push([k, Buffer.concat([header, inner]), true]);
					continue;
				}
			}
			u64(header, 0, writeBucket(v));
			els.push([k, header, true]);
		}
		// Leaves of `per` elements, then branch levels until one page remains.
		let level: Array<{key: Buffer; id: number}> = [];
		for (let i = 0; i < Math.max(els.length, 1); i += per) {
			const chunk = els.slice(i, i + per);
			level.push({key: chunk[0]?.[0] ?? Buffer.alloc(0), id: place(leafBytes(0, chunk))});
		}
		while (level.length > 1) {
			const up: Array<{key: Buffer; id: number}> = [];
			for (let i = 0; i < level.length; i += per) {
				const chunk = level.slice(i, i + per);
				const size = 16 + 16 * chunk.length + chunk.reduce((n, c) => n + c.key.length, 0);
				const body = Buffer.alloc(size);
				u16(body, 8, 0x01);
				u16(body, 10, chunk.length);
				let data = 16 + 16 * chunk.length;
				chunk.forEach((c, j) => {
					const el = 16 + 16 * j;
					u32(body, el, data - el);
					u32(body, el + 4, c.key.length);
					u64(body, el + 8, c.id);
					c.key.copy(body, data);
					data += c.key.length;
				});
				up.push({key: chunk[0]!.key, id: place(body)});
			}
			level = up;
		}
		return level[0]!.id;
	};
	const rootId = writeBucket(root);
	const freelist = next++;
	const fl = Buffer.alloc(ps);
	u64(fl, 0, freelist);
	u16(fl, 8, 0x10);
	pages.set(freelist, fl);
	const out = Buffer.alloc(next * ps);
	for (const [id, p] of pages) p.copy(out, id * ps);
	const txid = opts.txid ?? 7;
	for (const m of [0, 1] as const) {
		const at = m * ps;
		u64(out, at, m);
		u16(out, at + 8, 0x04);
		u32(out, at + 16, 0xed0cdaed);
		u32(out, at + 20, 2);
		u32(out, at + 24, ps);
		u64(out, at + 32, rootId);
		u64(out, at + 48, freelist);
		u64(out, at + 56, next);
		u64(out, at + 64, txid - 1 + m);
		const sum = opts.zeroChecksumMeta === m ? 0n : fnv1a64(out.subarray(at + 16, at + 72));
		u64(out, at + 72, sum);
	}
	return out;
}
