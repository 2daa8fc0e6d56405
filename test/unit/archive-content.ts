// Content of compressed archives, without a daemon: random-access reads through one live
// inflater (bounded memory, sequential reads continue it), a small archive held whole, export,
// check --deep and compare in one pass (counted in bytes read), O_NOATIME on the archive file, a
// damaged end, and export/cat on members whose content cannot be read (sparse): left out, a
// finding, exit 5. The real-dockerd cases (a 300 MB file, a gzip bomb) are in test/dockerd/archive.ts.
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {openTarSource} from '../../src/sources/tar-source.ts';
import {syncGunzip} from '../../src/formats/gunzip-sync.ts';
import {describe, readTar} from '../helpers/files-compare.ts';
import {ll} from '../helpers/files-run.ts';

const repo = path.join(import.meta.dirname, '..', '..');
const sample = path.join(repo, 'sample', 'docker.tar.gz');

const temps: string[] = [];
process.on('exit', () => {
	for (const dir of temps) fs.rmSync(dir, {recursive: true, force: true});
});
function tempDir(label: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-archive-${label}-`));
	temps.push(dir);
	return dir;
}

/** sample/docker.tar.gz extracted (a real overlay2 root), and the RW directory of one of its containers. */
function extractSample(): {root: string; rw: (name: string) => string} {
	const dir = tempDir('sample');
	execFileSync('tar', ['-xzf', sample, '-C', dir]);
	const root = path.join(dir, 'docker');
	const rw = (name: string): string => {
		for (const id of fs.readdirSync(path.join(root, 'containers'))) {
			const config = JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'config.v2.json'), 'utf8')) as {
				Name: string;
			};
			if (config.Name !== `/${name}`) continue;
			const mount = fs
				.readFileSync(path.join(root, 'image', 'overlay2', 'layerdb', 'mounts', id, 'mount-id'), 'utf8')
				.trim();
			return path.join(root, 'overlay2', mount, 'diff');
		}
		throw new Error(`no container ${name}`);
	};
	return {root, rw};
}

test('syncGunzip: inflates piece by piece, concatenated members as one stream, and throws (never crashes) on corrupt data', () => {
	const a = crypto.randomBytes(300_000);
	const b = Buffer.from('second member\n');
	const gz = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
	const g = syncGunzip();
	const out: Buffer[] = [];
	// What push returns is valid until the next push: kept, it is copied.
	for (let i = 0; i < gz.length; i += 1000) out.push(Buffer.from(g.push(gz.subarray(i, i + 1000))));
	g.close();
	assert.ok(Buffer.concat(out).equals(Buffer.concat([a, b])));
	const bad = syncGunzip();
	// A gzip header, then a deflate block of type 3 (reserved): Z_DATA_ERROR, thrown, not an unhandled 'error' event.
	assert.throws(() => bad.push(Buffer.concat([gz.subarray(0, 10), Buffer.alloc(100, 0xff)])), /invalid block type/);
	bad.close();
});

test('a .tgz: random-access reads equal the file, sequential reads cost no extra pass, an earlier offset one pass', async () => {
	const dir = tempDir('random');
	const tree = path.join(dir, 'tree');
	const files: Record<string, Buffer> = {};
	// Random content (not compressible: the archive is as big as its content) and text.
	for (const [name, size] of [
		['a.bin', 3 << 20],
		['b.bin', 20 << 20],
		['c.txt', 100_000],
	] as const) {
		const content = name.endsWith('.txt')
			? Buffer.from('line of text\n'.repeat(size / 13 + 1)).subarray(0, size)
			: crypto.randomBytes(size);
		fs.mkdirSync(path.join(tree, 'containers', 'x'), {recursive: true});
		fs.mkdirSync(path.join(tree, 'image'), {recursive: true});
		fs.writeFileSync(path.join(tree, 'containers', 'x', name), content);
		files[`containers/x/${name}`] = content;
	}
	const tgz = path.join(dir, 'r.tgz');
	execFileSync('tar', ['-czf', tgz, '-C', tree, 'containers', 'image']);
	// holdWholeBytes 0: never held whole, however small (as an archive over 64 MiB of tar stream).
	const opened = await openTarSource(tgz, {holdWholeBytes: 0});
	assert.ok(opened.ok);
	if (!opened.ok) return;
	const tar = opened.value;
	assert.is(tar.passes, 0, 'opening costs no content pass');
	const order = Object.keys(files).sort((x, y) => (tar.contentOffset?.(x) ?? 0) - (tar.contentOffset?.(y) ?? 0));
	// In archive order, whole files in 1 MiB pieces: one pass for all of them.
	for (const rel of order) {
		const r = tar.openRead!(rel);
		assert.ok(r.ok, rel);
		if (!r.ok) continue;
		const got: Buffer[] = [];
		const piece = Buffer.alloc(1 << 20);
		for (let pos = 0; ; ) {
			const n = r.value.read(piece, pos);
			assert.ok(n.ok, `${rel} at ${pos}`);
			if (!n.ok || n.value === 0) break;
			got.push(Buffer.from(piece.subarray(0, n.value)));
			pos += n.value;
		}
		r.value.close();
		assert.ok(Buffer.concat(got).equals(files[rel]!), `${rel}: same bytes`);
	}
	assert.is(tar.passes, 1, 'every file in archive order: one pass');
	// Random positions inside the biggest file: each one equal to the file's bytes.
	const big = files['containers/x/b.bin']!;
	const reader = tar.openRead!('containers/x/b.bin');
	assert.ok(reader.ok);
	if (!reader.ok) return;
	for (const pos of [5 << 20, 5 << 20, (5 << 20) + 1234, 19 << 20, 1, (20 << 20) - 10]) {
		const buf = Buffer.alloc(4096);
		const n = reader.value.read(buf, pos);
		assert.ok(n.ok);
		if (!n.ok) continue;
		assert.is(n.value, Math.min(4096, big.length - pos));
		assert.ok(buf.subarray(0, n.value).equals(big.subarray(pos, pos + n.value)), `bytes at ${pos}`);
	}
	reader.value.close();
	// Forward jumps continue the inflater; going back (to 1, then after 19 MiB back to the start) restarts it.
	assert.ok(tar.passes >= 2 && tar.passes <= 4, `passes ${tar.passes}`);
	const whole = tar.readFile('containers/x/a.bin', 4 << 20);
	assert.ok(whole.ok && whole.value.equals(files['containers/x/a.bin']!), 'readFile of an uncached member');
	// By default a tar stream this small is held whole on the first read: any order then costs one pass.
	const held = await openTarSource(tgz);
	assert.ok(held.ok);
	if (!held.ok) return;
	for (const rel of [...order].reverse()) {
		const r = held.value.readFile(rel, 64 << 20);
		assert.ok(r.ok && r.value.equals(files[rel]!), `${rel} (held whole)`);
	}
	assert.is(held.value.passes, 1);
	assert.is(held.value.contentOffset?.('containers/x/b.bin'), -1, 'no order to keep');
});

test('the archive file is opened with O_NOATIME: opening, reading content and exporting leave its access time', async () => {
	const dir = tempDir('atime');
	const tgz = path.join(dir, 'docker.tar.gz');
	fs.copyFileSync(sample, tgz);
	const aged = new Date(0);
	const mtime = new Date('2026-01-01T00:00:00Z');
	fs.utimesSync(tgz, aged, mtime);
	const e = await ll(['export', 'app_exited', '-o', path.join(dir, 'out.tar'), '--root', tgz]);
	assert.is(e.code, 0, e.stderr);
	const c = await ll(['cat', 'app_exited', '/bin/busybox', '--root', tgz]);
	assert.is(c.code, 0, c.stderr);
	const m = await ll(['check', '--deep', '--root', tgz]);
	assert.is(m.code, 0, m.stderr);
	assert.is(fs.statSync(tgz).atimeMs, 0, 'access time unchanged');
	// The control: a plain read does change it on this file system (else the test proves nothing).
	fs.readFileSync(tgz);
	const after = fs.statSync(tgz).atimeMs;
	if (after === 0)
		console.log('  note: this file system does not update access times (noatime): the O_NOATIME test is vacuous here');
	else assert.ok(after > 0, 'a plain read updates the access time');
});

test('export from a .tgz over 64 MiB: the same members as from its extraction, regular files in archive order, in one pass', async () => {
	const {root, rw} = extractSample();
	// 70 MiB of random bytes in the container's RW layer: the tar stream is too big to be held whole.
	fs.writeFileSync(path.join(rw('app_exited'), 'random.bin'), crypto.randomBytes(70 << 20));
	const dir = tempDir('export');
	const tgz = path.join(dir, 'big.tgz');
	execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-czf', tgz, '-C', path.dirname(root), 'docker']);
	const fromDir = path.join(dir, 'dir.tar');
	const fromTgz = path.join(dir, 'tgz.tar');
	const a = await ll(['export', 'app_exited', '-o', fromDir, '--root', root]);
	const b = await ll(['export', 'app_exited', '-o', fromTgz, '--hash', '--root', tgz]);
	assert.is(a.code, 0, a.stderr);
	assert.is(b.code, 0, b.stderr);
	assert.equal(describe(readTar(fromTgz)), describe(readTar(fromDir)));
	assert.ok(readTar(fromTgz).size > 20);
	const manifest = fs.readFileSync(`${fromTgz}.sha256`, 'utf8').trim().split('\n');
	const busybox = manifest.find(l => l.endsWith('  bin/busybox'));
	assert.is(
		busybox?.slice(0, 64),
		readTar(fromDir).get('bin/busybox')?.sha256,
		'manifest line: the content exported from the directory',
	);
	const names = [...readTar(fromTgz).values()];
	const firstFile = names.findIndex(m => m.type === 'file' || m.type === 'hardlink');
	assert.ok(
		firstFile > 0 && names.slice(firstFile).every(m => m.type === 'file' || m.type === 'hardlink'),
		'directories, symlinks and devices first, then the regular files',
	);
	// One pass: every compressed byte read again after opening goes through fs.readSync (the index pass streams).
	const size = fs.statSync(tgz).size;
	const read = fs.readSync;
	let bytes = 0;
	fs.readSync = ((...args: Parameters<typeof fs.readSync>) => {
		const n = read(...args);
		bytes += n;
		return n;
	}) as typeof fs.readSync;
	let deepBytes = 0;
	let compareBytes = 0;
	try {
		const again = await ll(['export', 'app_exited', '-o', path.join(dir, 'again.tar'), '--root', tgz]);
		assert.is(again.code, 0);
		const exported = bytes;
		// check --deep: the layers in the order their directories lie in the archive, each layer's files in archive order.
		const deep = await ll(['check', '--deep', '--json', '--root', tgz]);
		assert.is(deep.code, 0, deep.stderr);
		deepBytes = bytes - exported;
		// compare hashes every small file of both roots: on an archive, in archive order (one pass per snapshot).
		const cmp = await ll(['compare', tgz, tgz, '--json']);
		assert.is(cmp.code, 0, cmp.stderr);
		compareBytes = bytes - exported - deepBytes;
		bytes = exported;
		const layers = (
			JSON.parse(deep.stdout) as {objects: Array<{kind: string; checks: Array<{check: string; status: string}>}>}
		).objects.filter(o => o.kind === 'layer');
		assert.ok(
			layers.length > 2 && layers.every(o => o.checks.find(c => c.check === 'layer.content')?.status === 'pass'),
			'every layer verified',
		);
	} finally {
		fs.readSync = read;
	}
	assert.ok(
		bytes > 0 && bytes <= size + 4096,
		`export read ${bytes} bytes of a ${size}-byte archive after opening it: at most one pass`,
	);
	assert.ok(
		deepBytes > 0 && deepBytes <= size + 4096,
		`check --deep read ${deepBytes} bytes of a ${size}-byte archive after opening it: at most one pass`,
	);
	assert.ok(
		compareBytes > 0 && compareBytes <= 2 * (size + 4096),
		`compare of the archive with itself read ${compareBytes} bytes of a ${size}-byte archive: at most one pass per snapshot`,
	);
	// The hashes taken from the archive are the directory's: nothing changed between the two.
	const same = await ll(['compare', root, tgz, '--json']);
	assert.is(same.code, 0, same.stderr);
	assert.equal((JSON.parse(same.stdout) as {counts: unknown}).counts, {added: 0, removed: 0, changed: 0});
});

test('a .tgz damaged at its end: the members before the damage still read (held whole or not)', async () => {
	const dir = tempDir('damaged');
	const tgz = path.join(dir, 'damaged.tgz');
	const bytes = fs.readFileSync(sample);
	// The gzip trailer (CRC-32 and length) overwritten: inflating to the end fails, everything before is intact.
	bytes.fill(0x55, bytes.length - 8);
	fs.writeFileSync(tgz, bytes);
	const want = await openTarSource(sample);
	assert.ok(want.ok);
	if (!want.ok) return;
	const rel = findBusybox(want.value);
	const expected = want.value.readFile(rel, 4 << 20);
	assert.ok(expected.ok);
	for (const holdWholeBytes of [undefined, 0]) {
		const opened = await openTarSource(tgz, {holdWholeBytes});
		assert.ok(opened.ok);
		if (!opened.ok) continue;
		const got = opened.value.readFile(rel, 4 << 20);
		assert.ok(
			got.ok && expected.ok && got.value.equals(expected.value),
			`${rel} (holdWholeBytes ${holdWholeBytes}): ${got.ok ? 'differs' : got.error.message}`,
		);
	}
});

/** The path of bin/busybox in one of the sample's layer directories. */
function findBusybox(source: import('../../src/sources/source.ts').Source): string {
	const layers = source.list('overlay2');
	if (!layers.ok) throw new Error('no overlay2');
	for (const l of layers.value) {
		const p = `overlay2/${l.name}/diff/bin/busybox`;
		const st = source.stat(p);
		if (st.ok && st.value.kind === 'file') return p;
	}
	throw new Error('no bin/busybox');
}

test('a member whose content cannot be read (GNU sparse): export leaves it out and exits 5, cat exits 5, never zeros', async () => {
	const {root, rw} = extractSample();
	const diff = rw('app_exited');
	fs.writeFileSync(path.join(diff, 'plain.txt'), 'plain\n');
	execFileSync('truncate', ['-s', '4M', path.join(diff, 'sparse.bin')]);
	const dir = tempDir('sparse');
	const tgz = path.join(dir, 'sparse.tgz');
	execFileSync('tar', ['--sparse', '--format=gnu', '-czf', tgz, '-C', path.dirname(root), 'docker']);
	const out = path.join(dir, 'out.tar');
	const e = await ll(['export', 'app_exited', '-o', out, '--root', tgz]);
	assert.is(e.code, 5, 'export exits 5');
	assert.match(e.stderr, /INCOMPLETE/);
	assert.match(e.stderr, /\/sparse\.bin is left out of the export: its content cannot be read \(GNU sparse member/);
	const members = readTar(out);
	assert.not.ok(members.has('sparse.bin'), 'left out, not written as zeros');
	assert.ok(members.has('plain.txt'), 'the rest is there');
	const c = await ll(['cat', 'app_exited', '/sparse.bin', '--root', tgz]);
	assert.is(c.code, 5, 'cat exits 5');
	assert.is(c.bytes.length, 0, 'cat writes nothing');
	assert.match(c.stderr, /files\.unreadable/);
	const p = await ll(['cat', 'app_exited', '/plain.txt', '--root', tgz]);
	assert.is(p.stdout, 'plain\n');
});

test.run();
