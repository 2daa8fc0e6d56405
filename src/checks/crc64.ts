/**
 * CRC-64/ISO as Go's `crc64.MakeTable(crc64.ISO)` computes it (what tar-split stores per file):
 * reflected polynomial 0xD800000000000000, initial value ~0, final xor ~0. Kept as two 32-bit
 * halves (no BigInt in the loop), slicing by 8 bytes.
 */
const tables: {hi: Uint32Array; lo: Uint32Array}[] = [];

function build(): void {
	const hi0 = new Uint32Array(256);
	const lo0 = new Uint32Array(256);
	for (let i = 0; i < 256; i++) {
		let hi = 0;
		let lo = i;
		for (let k = 0; k < 8; k++) {
			const carry = lo & 1;
			lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
			hi = hi >>> 1;
			if (carry) hi = (hi ^ 0xd8000000) >>> 0;
		}
		hi0[i] = hi;
		lo0[i] = lo;
	}
	tables.push({hi: hi0, lo: lo0});
	// Table k: the CRC of byte i followed by k zero bytes.
	for (let k = 1; k < 8; k++) {
		const prev = tables[k - 1]!;
		const hi = new Uint32Array(256);
		const lo = new Uint32Array(256);
		for (let i = 0; i < 256; i++) {
			const ph = prev.hi[i]!;
			const pl = prev.lo[i]!;
			const idx = pl & 0xff;
			hi[i] = (hi0[idx]! ^ (ph >>> 8)) >>> 0;
			lo[i] = (lo0[idx]! ^ ((pl >>> 8) | ((ph & 0xff) << 24))) >>> 0;
		}
		tables.push({hi, lo});
	}
}
build();

export class Crc64 {
	private hi = 0xffffffff;
	private lo = 0xffffffff;

	update(data: Uint8Array): this {
		let hi = this.hi;
		let lo = this.lo;
		const t = tables;
		const [t0, t1, t2, t3, t4, t5, t6, t7] = [t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, t[5]!, t[6]!, t[7]!];
		let i = 0;
		const n = data.length;
		for (; i + 8 <= n; i += 8) {
			const l = (lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
			const h = (hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24))) >>> 0;
			const b0 = l & 0xff,
				b1 = (l >>> 8) & 0xff,
				b2 = (l >>> 16) & 0xff,
				b3 = l >>> 24;
			const b4 = h & 0xff,
				b5 = (h >>> 8) & 0xff,
				b6 = (h >>> 16) & 0xff,
				b7 = h >>> 24;
			hi = t7.hi[b0]! ^ t6.hi[b1]! ^ t5.hi[b2]! ^ t4.hi[b3]! ^ t3.hi[b4]! ^ t2.hi[b5]! ^ t1.hi[b6]! ^ t0.hi[b7]!;
			lo = t7.lo[b0]! ^ t6.lo[b1]! ^ t5.lo[b2]! ^ t4.lo[b3]! ^ t3.lo[b4]! ^ t2.lo[b5]! ^ t1.lo[b6]! ^ t0.lo[b7]!;
		}
		for (; i < n; i++) {
			const idx = (lo ^ data[i]!) & 0xff;
			lo = (t0.lo[idx]! ^ ((lo >>> 8) | ((hi & 0xff) << 24))) >>> 0;
			hi = (t0.hi[idx]! ^ (hi >>> 8)) >>> 0;
		}
		this.hi = hi >>> 0;
		this.lo = lo >>> 0;
		return this;
	}

	/** The 8-byte big-endian value, as tar-split stores it. */
	digest(): Buffer {
		const out = Buffer.alloc(8);
		out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
		out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
		return out;
	}
}

export function crc64(data: Uint8Array): Buffer {
	return new Crc64().update(data).digest();
}
