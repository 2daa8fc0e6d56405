// The bbolt reader (src/formats/bbolt.ts) on the real .db files of both real trees and of the sample
// (a root written by dockerd 20.10), on files built in code by test/helpers/bbolt-writer.ts (branch
// pages, overflow pages, inline and nested buckets, big-endian, zero-checksum metas), and on
// hostile input: cycles, out-of-range page ids, absurd sizes, seeded random damage. It must never
// throw and never hang. Format: etcd-io/bbolt internal/common/{page.go,meta.go,bucket.go}, db.go;
// the reference layout notes §5.5.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {type Bolt, type BoltDump, bucketAt, dumpBolt, fnv1a64, openBolt} from '../../src/formats/bbolt.ts';
import {type WBucket, type WValue, wb, writeBolt} from '../helpers/bbolt-writer.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {rng} from '../helpers/rng.ts';

const samplePath = path.join(import.meta.dirname, '..', '..', 'sample', 'docker.tar.gz');
let sampleRoot: string | null = null;
function sample(): string {
	if (sampleRoot !== null) return sampleRoot;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-bbolt-sample-'));
	execFileSync('tar', ['-xzf', samplePath, '-C', dir]);
	process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
	sampleRoot = fs.existsSync(path.join(dir, 'docker')) ? path.join(dir, 'docker') : dir;
	return sampleRoot;
}

function open(file: string): Bolt {
	const o = openBolt(fs.readFileSync(file));
	if (!o.ok) throw new Error(`${file}: ${o.error}`);
	return o.db;
}

function dump(db: Bolt): {tree: BoltDump; errors: string[]} {
	const errors: string[] = [];
	return {tree: dumpBolt(db, db.root, errors), errors};
}

/** Every .db file under a directory. */
function dbFiles(dir: string): string[] {
	const out: string[] = [];
	const walk = (d: string) => {
		for (const e of fs.readdirSync(d, {withFileTypes: true})) {
			const p = path.join(d, e.name);
			if (e.isDirectory()) walk(p);
			else if (e.isFile() && e.name.endsWith('.db')) out.push(p);
		}
	};
	walk(dir);
	return out.sort();
}

const libkv = (v: string): any => JSON.parse(Buffer.from(v.slice(4), 'hex').subarray(8).toString('utf8'));

test('fnv1a64 matches the reference values of hash/fnv New64a', () => {
	assert.is(fnv1a64(Buffer.alloc(0)), 0xcbf29ce484222325n);
	assert.is(fnv1a64(Buffer.from('a')), 0xaf63dc4c8601ec8cn);
	assert.is(fnv1a64(Buffer.from('foobar')), 0x85944171f73967e8n);
});

test('real trees: every .db parses completely, without errors', () => {
	const roots = [realRoot('aufs'), realRoot('overlay2'), sample()].filter((r): r is string => r !== null);
	let n = 0;
	for (const root of roots) {
		for (const f of dbFiles(root)) {
			const db = open(f);
			const d = dump(db);
			assert.equal(d.errors, [], f);
			n++;
		}
	}
	assert.ok(n >= 7, `${n} files`);
});

test('aufs.v2 (Docker 1.11): meta page 1 has a zero checksum and is accepted; the valid meta with the highest txid is used', () => {
	const root = realRoot('aufs');
	if (root === null) return console.log('  skip: real fixtures absent');
	const db = open(path.join(root, 'volumes/metadata.db'));
	assert.is(db.meta.page, 0);
	assert.is(db.meta.pageSize, 4096);
	assert.ok(db.warnings.some(w => /meta page 1 has no checksum/.test(w)));
	assert.equal(dump(db).tree, {volumes: {}});
	const kv = dump(open(path.join(root, 'network/files/local-kv.db'))).tree;
	const lib = kv.libnetwork as BoltDump;
	const bridge = libkv(
		lib['docker/network/v1.0/network/7e6b4126825389f2aa83e119d8c52e9eb586c100afea4ee6a50a3cc010fc0581/'] as string,
	);
	assert.is(bridge.name, 'bridge');
	assert.is(bridge.networkType, 'bridge');
	const ep = libkv(
		lib[
			'docker/network/v1.0/endpoint/7e6b4126825389f2aa83e119d8c52e9eb586c100afea4ee6a50a3cc010fc0581/d9ad62174822f1952a631bd7f0dd0362e415191e013851d51e7686f6aaf5aca7/'
		] as string,
	);
	assert.is(ep.name, 'dreamy_snyder');
	assert.is(ep.ep_iface.addr, '172.17.0.2/16');
});

test('overlay2.v2: the libnetwork bucket is rooted at a branch page; all its keys come back, sorted', () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  skip: real fixtures absent');
	const db = open(path.join(root, 'network/files/local-kv.db'));
	const at = bucketAt(db, ['libnetwork']);
	assert.equal(at.errors, []);
	assert.is(at.bucket!.root, 4);
	const buf = fs.readFileSync(path.join(root, 'network/files/local-kv.db'));
	assert.is(buf.readUInt16LE(4 * 4096 + 8), 0x01, 'page 4 is a branch page');
	const read = db.entries(at.bucket!);
	const keys = read.entries.map(e => e.key.toString());
	// As many keys as the branch's leaf pages hold, counted from their raw headers.
	const kids = [0, 1].map(i => Number(buf.readBigUInt64LE(4 * 4096 + 16 + i * 16 + 8)));
	assert.is(buf.readUInt16LE(4 * 4096 + 10), 2);
	assert.is(
		keys.length,
		kids.reduce((n, id) => n + buf.readUInt16LE(id * 4096 + 10), 0),
	);
	assert.ok(keys.length >= 10, `${keys.length} keys`);
	assert.equal(keys, [...keys].sort());
	assert.ok(
		keys.includes('docker/network/v1.0/network/a88128a8e685fa1cfa24b3c49cb1dae457d5789025cfbb8b065d575d3a52d7ff/'),
	);
	assert.is(new Set(keys).size, keys.length);
});

test('sample (dockerd 20.10): containerd meta.db, buildkit databases, volumes and local-kv', () => {
	const root = sample();
	const meta = dump(open(path.join(root, 'containerd/daemon/io.containerd.metadata.v1.bolt/meta.db'))).tree;
	assert.equal(meta, {v1: {moby: {containers: {}, leases: {}}, version: 'hex:06'}});
	assert.equal(dump(open(path.join(root, 'buildkit/cache.db'))).tree, {
		_backlinks: {},
		_byresult: {},
		_links: {},
		_result: {},
	});
	for (const f of ['metadata_v2.db', 'snapshots.db', 'containerdmeta.db'])
		assert.equal(dump(open(path.join(root, 'buildkit', f))).tree, {}, f);
	assert.equal(dump(open(path.join(root, 'volumes/metadata.db'))).tree, {volumes: {}});
	const lib = dump(open(path.join(root, 'network/files/local-kv.db'))).tree.libnetwork as BoltDump;
	const names = Object.entries(lib)
		.filter(([k]) => /\/network\/[0-9a-f]{64}\/$/.test(k))
		.map(([, v]) => libkv(v as string).name)
		.sort();
	assert.equal(names, ['host', 'none']);
});

// ---- files built in code ----------------------------------------------------------------------

/** What dumpBolt should give for a tree the writer wrote. */
function expected(b: WBucket): BoltDump {
	const out: BoltDump = {};
	for (const [k, v] of b.bucket) {
		const key = typeof k === 'string' ? k : k.toString('utf8');
		out[key] =
			typeof v === 'object' && !Buffer.isBuffer(v) ? expected(v) : typeof v === 'string' ? v : v.toString('utf8');
	}
	return out;
}

function randomTree(r: () => number, depth: number): WBucket {
	const n = Math.floor(r() * (depth === 0 ? 40 : 12));
	const entries: Array<[string, WValue]> = [];
	const used = new Set<string>();
	for (let i = 0; i < n; i++) {
		const key = `k${Math.floor(r() * 1e6).toString(36)}-${i}`;
		if (used.has(key)) continue;
		used.add(key);
		const roll = r();
		if (roll < 0.2 && depth < 5) entries.push([key, randomTree(r, depth + 1)]);
		else if (roll < 0.25) entries.push([key, 'v'.repeat(5000 + Math.floor(r() * 20000))]);
		else entries.push([key, `value ${i} ${'x'.repeat(Math.floor(r() * 200))}`]);
	}
	return {bucket: entries};
}

test('writer round trips: branch pages, overflow pages, inline and nested buckets, page sizes, byte orders', () => {
	for (let seed = 1; seed <= 30; seed++) {
		const r = rng(seed);
		const tree = randomTree(r, 0);
		const opts = {pageSize: [4096, 16384, 1024][seed % 3]!, perPage: 2 + (seed % 7), bigEndian: seed % 4 === 0};
		const db = openBolt(writeBolt(tree, opts));
		assert.ok(db.ok, `seed ${seed}`);
		if (!db.ok) continue;
		assert.is(db.db.littleEndian, !opts.bigEndian);
		assert.is(db.db.meta.pageSize, opts.pageSize);
		const d = dump(db.db);
		assert.equal(d.errors, [], `seed ${seed}`);
		assert.equal(d.tree, expected(tree), `seed ${seed}`);
	}
});

test('a 20 KB value spans overflow pages and comes back whole; a small bucket is stored inline', () => {
	const big = 'y'.repeat(20_000);
	const file = writeBolt(wb({v1: wb({moby: wb({containers: wb({c1: wb({spec: big})}), small: wb({a: '1'})})})}), {
		inlineMax: 200,
	});
	const db = openBolt(file);
	assert.ok(db.ok);
	if (!db.ok) return;
	const spec = bucketAt(db.db, ['v1', 'moby', 'containers', 'c1']);
	const e = db.db.entries(spec.bucket!).entries[0]!;
	assert.is(e.value!.length, 20_000);
	const small = bucketAt(db.db, ['v1', 'moby', 'small']);
	assert.is(small.bucket!.root, 0);
	assert.ok(small.bucket!.inline !== undefined);
});

test('meta selection: the newest valid meta; a bad checksum falls back to the other; both bad is an error', () => {
	const tree = wb({b: wb({k: 'v'})});
	const good = writeBolt(tree, {txid: 10});
	const a = openBolt(good);
	assert.ok(a.ok && a.db.meta.page === 1 && a.db.meta.txid === 10);
	const bad1 = Buffer.from(good);
	bad1.writeUInt8(bad1.readUInt8(4096 + 64) ^ 0xff, 4096 + 64); // meta 1's txid: checksum no longer matches
	const b = openBolt(bad1);
	assert.ok(b.ok && b.db.meta.page === 0);
	assert.ok(b.ok && b.db.warnings.some(w => /checksum/.test(w)));
	const bad0 = Buffer.from(bad1);
	bad0.writeUInt8(bad0.readUInt8(64) ^ 0xff, 64);
	const c = openBolt(bad0);
	assert.not.ok(c.ok);
	assert.match((c as {error: string}).error, /not a readable bbolt database/);
	// Zero checksum (boltdb < v1.2.1) is accepted on either page.
	const z = openBolt(writeBolt(tree, {zeroChecksumMeta: 1}));
	assert.ok(z.ok && z.db.meta.page === 1 && z.db.meta.checksumState === 'zero');
	// Meta 0 destroyed on a 16 KiB-page file: meta 1 is found at 16384.
	const big = writeBolt(tree, {pageSize: 16384});
	big.fill(0, 0, 80);
	const d = openBolt(big);
	assert.ok(d.ok && d.db.meta.page === 1 && d.db.meta.pageSize === 16384);
	assert.equal(dump((d as {db: Bolt}).db).tree, {b: {k: 'v'}});
	for (const junk of [
		Buffer.alloc(0),
		Buffer.alloc(100),
		Buffer.alloc(8192),
		Buffer.from('SQLite format 3\0'.padEnd(8192, 'x')),
	]) {
		assert.not.ok(openBolt(junk).ok);
	}
});

/** Rewrites the u64 at `off` (little-endian) and fixes both metas' checksums, so the damage gets past the meta check. */
function poke64(file: Buffer, off: number, v: number): Buffer {
	const b = Buffer.from(file);
	b.writeBigUInt64LE(BigInt(v), off);
	return b;
}

test('hostile: cycles, out-of-range page ids, absurd counts, offsets and overflow are errors, not hangs or throws', () => {
	const tree = wb(
		Object.fromEntries(
			Array.from({length: 12}, (_, i) => [`key${String(i).padStart(2, '0')}`, wb({x: 'y'.repeat(300)})]),
		),
	);
	const file = writeBolt(tree, {perPage: 3, inlineMax: 0});
	const db = openBolt(file);
	assert.ok(db.ok);
	if (!db.ok) return;
	const rootId = db.db.meta.root;
	const ps = 4096;
	const rootAt = rootId * ps;
	assert.is(file.readUInt16LE(rootAt + 8), 0x01, 'root is a branch page');
	const firstChildOff = rootAt + 16 + 8;
	const cases: Array<[string, Buffer, RegExp]> = [
		['branch child = itself', poke64(file, firstChildOff, rootId), /reached twice|cycle/],
		['branch child beyond the file', poke64(file, firstChildOff, 1e9), /outside the file/],
		['branch child = meta page', poke64(file, firstChildOff, 1), /outside the file/],
		['branch child beyond 2^53', poke64(file, firstChildOff, Number.MAX_SAFE_INTEGER), /outside the file/],
	];
	// Absurd element count on the root page.
	const count = Buffer.from(file);
	count.writeUInt16LE(0xffff, rootAt + 10);
	cases.push(['count 65535', count, /claims 65535 elements/]);
	// Absurd overflow on a leaf.
	// The first leaf: follow first children down the branch pages.
	let child = Number(file.readBigUInt64LE(firstChildOff));
	while (file.readUInt16LE(child * ps + 8) === 0x01) child = Number(file.readBigUInt64LE(child * ps + 16 + 8));
	const over = Buffer.from(file);
	over.writeUInt32LE(0xffffffff, child * ps + 12);
	cases.push(['overflow 2^32-1', over, /overflows/]);
	// Element pos/size pointing outside the page.
	const pos = Buffer.from(file);
	pos.writeUInt32LE(0xfffffff0, child * ps + 16 + 4);
	cases.push(['element pos outside', pos, /outside its page/]);
	const vsize = Buffer.from(file);
	vsize.writeUInt32LE(0x7fffffff, child * ps + 16 + 12);
	cases.push(['value size outside', vsize, /outside its page/]);
	// Page header id that disagrees with its position.
	const wrongId = poke64(file, child * ps, child + 1);
	cases.push(['header id mismatch', wrongId, /says it is page/]);
	for (const [name, buf, re] of cases) {
		const o = openBolt(buf);
		assert.ok(o.ok, name);
		if (!o.ok) continue;
		const t0 = Date.now();
		const d = dump(o.db);
		assert.ok(
			d.errors.some(e => re.test(e)),
			`${name}: ${d.errors.join('; ')}`,
		);
		assert.ok(Date.now() - t0 < 2000, `${name} is quick`);
	}
});

test('hostile: a nested bucket pointing back at its parent, many times over, stops at the depth and the budget', () => {
	// 16 sub-buckets per level, all rooted at the root page: a naive reader would recurse 16^64 times.
	const entries: Array<[string, WValue]> = Array.from({length: 16}, (_, i) => [
		`b${i}`,
		wb({placeholder: wb({z: 'z'.repeat(2000)})}),
	]);
	const file = writeBolt({bucket: entries}, {inlineMax: 0});
	const o = openBolt(file);
	assert.ok(o.ok);
	if (!o.ok) return;
	const root = o.db.meta.root;
	for (const e of o.db.entries(o.db.root).entries) {
		// Bucket values hold (u64 root, u64 seq); rewrite each root to the top-level root page.
		const at = e.bucket!.root;
		assert.ok(at > 0);
		const off = file.indexOf(Buffer.concat([e.key, Buffer.from(new BigUint64Array([BigInt(at)]).buffer)]));
		file.writeBigUInt64LE(BigInt(root), off + e.key.length);
	}
	const again = openBolt(file);
	assert.ok(again.ok);
	if (!again.ok) return;
	const t0 = Date.now();
	const d = dump(again.db);
	assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
	assert.ok(
		d.errors.some(e => /budget|deeper/.test(e)),
		d.errors.slice(0, 3).join('; '),
	);
});

test('fuzz: seeded random damage to copies of the real .db files never throws and always ends', () => {
	const roots = [realRoot('aufs'), realRoot('overlay2'), sample()].filter((r): r is string => r !== null);
	const files = roots.flatMap(dbFiles);
	const rounds = Number(process.env.FUZZ_ROUNDS ?? 150);
	const seed = Number(process.env.FUZZ_SEED ?? 8);
	const r = rng(seed);
	let opened = 0;
	for (const f of files) {
		const orig = fs.readFileSync(f);
		for (let i = 0; i < rounds; i++) {
			const b = Buffer.from(orig);
			const kind = Math.floor(r() * 4);
			if (kind === 0) {
				for (let j = 0; j < 1 + Math.floor(r() * 20); j++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
			} else if (kind === 1) {
				// Damage past the metas (their checksums would reject the file otherwise).
				for (let j = 0; j < 1 + Math.floor(r() * 50); j++)
					b[8192 + Math.floor(r() * (b.length - 8192))] = Math.floor(r() * 256);
			} else if (kind === 2) {
				const at = 8192 + Math.floor(r() * (b.length - 8192 - 8));
				b.writeBigUInt64LE(BigInt(Math.floor(r() * 64)), at);
			}
			const cut = kind === 3 ? b.subarray(0, Math.floor(r() * b.length)) : b;
			const t0 = Date.now();
			let o: ReturnType<typeof openBolt> | undefined;
			try {
				o = openBolt(cut);
				if (o.ok) {
					opened++;
					dump(o.db);
				}
			} catch (error) {
				assert.unreachable(`${f} seed ${seed} round ${i}: threw ${(error as Error).stack}`);
			}
			assert.ok(Date.now() - t0 < 5000, `${f} round ${i} took too long`);
		}
	}
	assert.ok(opened > 0);
});

test.run();
