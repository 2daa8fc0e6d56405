import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {Crc64, crc64} from '../../src/checks/crc64.ts';
import {openRoot, openSource} from '../../src/load.ts';
import type {Source} from '../../src/sources/source.ts';
import {type TarSplitEntry, readTarSplit} from '../../src/read/tar-split.ts';
import {openTarSource} from '../../src/sources/tar-source.ts';
import {diskLayers, real, sampleTarball} from '../helpers/check-roots.ts';

// The readers the deep checks stand on: CRC-64/ISO, the tar-split reader, and reading files in pieces.

test('CRC-64/ISO as Go computes it: "hi\\n" is YUmYEAAAAAA= (the reference layout notes §7), check value of "123456789"', () => {
	assert.is(crc64(Buffer.from('hi\n')).toString('base64'), 'YUmYEAAAAAA=');
	assert.is(crc64(Buffer.from('123456789')).toString('hex'), 'b90956c775a41001');
	assert.is(crc64(Buffer.alloc(0)).toString('hex'), '0000000000000000');
	// Pieces give the same value as the whole, whatever the split (slicing by 8 and the tail loop).
	const data = Buffer.from(Array.from({length: 1000}, (_, i) => (i * 131 + 7) % 256));
	const whole = crc64(data).toString('hex');
	for (const cut of [0, 1, 7, 8, 9, 500, 999]) {
		assert.is(
			new Crc64().update(data.subarray(0, cut)).update(data.subarray(cut)).digest().toString('hex'),
			whole,
			`split at ${cut}`,
		);
	}
});

function readAll(source: Source, rel: string, piece: number): Buffer | string {
	const opened = source.openRead!(rel);
	if (!opened.ok) return opened.error.code;
	const parts: Buffer[] = [];
	const buf = Buffer.alloc(piece);
	let pos = 0;
	try {
		for (;;) {
			const r = opened.value.read(buf, pos);
			if (!r.ok) return r.error.code;
			if (r.value === 0) break;
			parts.push(Buffer.from(buf.subarray(0, r.value)));
			pos += r.value;
		}
	} finally {
		opened.value.close();
	}
	return Buffer.concat(parts);
}

test('openRead: a directory, a .tar and a .tar.gz read the same bytes in pieces as readFile; symlinks, FIFOs and dirs are refused', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-openread-'));
	try {
		const root = path.join(dir, 'docker');
		fs.mkdirSync(path.join(root, 'image/overlay2'), {recursive: true});
		fs.mkdirSync(path.join(root, 'overlay2/x/diff'), {recursive: true});
		const big = Buffer.from(Array.from({length: 300_000}, (_, i) => (i * 7) % 251));
		fs.writeFileSync(path.join(root, 'overlay2/x/diff/big'), big);
		fs.linkSync(path.join(root, 'overlay2/x/diff/big'), path.join(root, 'overlay2/x/diff/hard'));
		fs.writeFileSync(path.join(root, 'overlay2/x/diff/empty'), '');
		fs.symlinkSync('/etc/passwd', path.join(root, 'overlay2/x/diff/link'));
		spawnSync('mkfifo', [path.join(root, 'overlay2/x/diff/fifo')]);
		spawnSync('tar', ['-cf', path.join(dir, 'root.tar'), '-C', dir, 'docker']);
		spawnSync('tar', ['-czf', path.join(dir, 'root.tar.gz'), '-C', dir, 'docker']);
		const sources: Array<[string, Source]> = [['dir', openSource(root)]];
		for (const f of ['root.tar', 'root.tar.gz']) {
			const t = await openTarSource(path.join(dir, f));
			assert.ok(t.ok);
			if (t.ok) sources.push([f, t.value]);
		}
		for (const [label, s] of sources) {
			for (const piece of [1000, 65536, 1 << 20])
				assert.ok(
					big.equals(readAll(s, 'overlay2/x/diff/big', piece) as Buffer),
					`${label} big in ${piece}-byte pieces`,
				);
			assert.ok(big.equals(readAll(s, 'overlay2/x/diff/hard', 4096) as Buffer), `${label} hard link`);
			assert.equal(readAll(s, 'overlay2/x/diff/empty', 10), Buffer.alloc(0), `${label} empty`);
			assert.is(readAll(s, 'overlay2/x/diff/link', 10), 'symlink', `${label} symlink`);
			assert.is(readAll(s, 'overlay2/x/diff/fifo', 10), 'not-a-file', `${label} fifo`);
			assert.is(readAll(s, 'overlay2/x/diff', 10), 'not-a-file', `${label} dir`);
			assert.is(readAll(s, 'overlay2/x/diff/nope', 10), 'missing', `${label} missing`);
			assert.is(readAll(s, '../etc/passwd', 10), 'bad-path', `${label} leaves the root`);
			// Hard links share an inode number, other files do not.
			const a = s.stat('overlay2/x/diff/big');
			const b = s.stat('overlay2/x/diff/hard');
			const c = s.stat('overlay2/x/diff/empty');
			assert.ok(a.ok && b.ok && c.ok && a.value.ino !== undefined);
			if (a.ok && b.ok && c.ok) {
				assert.is(a.value.ino, b.value.ino, `${label} hard link ino`);
				assert.is.not(a.value.ino, c.value.ino, `${label} other ino`);
			}
			// A reader reads nothing after close.
			const r = s.openRead!('overlay2/x/diff/big');
			assert.ok(r.ok);
			if (r.ok) {
				r.value.close();
				assert.is(r.value.read(Buffer.alloc(10), 0).ok, false);
			}
		}
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('readTarSplit streams a real layer: segments and files in order, ending in the end-of-archive zeros (sample)', async () => {
	const root = real('sample');
	if (root === null) return;
	const source = openSource(root);
	for (const l of diskLayers(root, 'overlay2')) {
		const entries: TarSplitEntry[] = [];
		const rel = path.relative(root, path.join(l.dir, 'tar-split.json.gz'));
		const r = await readTarSplit(source, rel, e => {
			entries.push(e);
		});
		assert.ok(r.ok, JSON.stringify(r));
		assert.ok(entries.length > 2);
		assert.equal(
			entries.map(e => e.position),
			entries.map((_, i) => i),
		);
		const last = entries.at(-1)!;
		assert.ok(last.type === 'segment' || entries.at(-2)!.type === 'segment');
		assert.ok(
			entries
				.filter(e => e.type === 'file')
				.every(e => e.type === 'file' && (e.size === 0 ? e.crc === null : e.crc?.length === 8)),
		);
	}
	// Stopping early.
	const first = diskLayers(root, 'overlay2')[0]!;
	let seen = 0;
	const stopped = await readTarSplit(
		source,
		path.relative(root, path.join(first.dir, 'tar-split.json.gz')),
		() => ++seen < 2,
	);
	assert.equal(stopped, {ok: true, entries: 2, stopped: true});
});

test('readTarSplit refuses damage plainly: missing, not gzip, bad JSON, bad base64, an over-long line', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-tarsplit-'));
	try {
		const put = (name: string, data: Buffer | string) => fs.writeFileSync(path.join(dir, name), data);
		put('plain', 'not gzip');
		put('json', zlib.gzipSync('{"type":2,"payload":"AAAA","position":0}\n{oops\n'));
		put('b64', zlib.gzipSync('{"type":2,"payload":"!!!!","position":0}\n'));
		put('crc', zlib.gzipSync('{"type":1,"name":"a","size":3,"payload":"AAAA","position":0}\n'));
		put('type', zlib.gzipSync('{"type":9,"position":0}\n'));
		put('long', zlib.gzipSync('x'.repeat((16 << 20) + 10)));
		put(
			'ok',
			zlib.gzipSync(
				'{"type":1,"name":"a","size":3,"payload":"YUmYEAAAAAA=","position":0}\n{"type":2,"payload":null,"position":1}',
			),
		);
		const s = openSource(dir);
		const run = async (f: string) => readTarSplit(s, f, () => true);
		assert.equal(await run('nope'), {ok: false, reason: 'missing', message: 'nope: ENOENT'});
		assert.is((await run('plain')).ok, false);
		assert.match(JSON.stringify(await run('json')), /line 2 is not JSON/);
		assert.match(JSON.stringify(await run('b64')), /payload is not base64/);
		assert.match(JSON.stringify(await run('crc')), /not an 8-byte CRC-64/);
		assert.match(JSON.stringify(await run('type')), /unknown entry type 9/);
		assert.match(JSON.stringify(await run('long')), /longer than/);
		assert.equal(await run('ok'), {ok: true, entries: 2, stopped: false});
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('the sample archive (.tar.gz, read in place) has every layer file readable in pieces', async () => {
	const opened = await openRoot(sampleTarball);
	assert.ok(opened.ok);
	if (!opened.ok) return;
	const root = real('sample')!;
	const l = diskLayers(root, 'overlay2').find(x => x.parent === undefined)!;
	const file = path.join(root, `overlay2/${l.cacheId}/diff/bin/busybox`);
	const fromTar = readAll(opened.source, `overlay2/${l.cacheId}/diff/bin/busybox`, 65536);
	assert.ok(Buffer.isBuffer(fromTar) && fromTar.equals(fs.readFileSync(file)));
});

test.run();
