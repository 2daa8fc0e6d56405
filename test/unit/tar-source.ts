import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {openDirSource} from '../../src/sources/dir-source.ts';
import type {Result, Source, Stat} from '../../src/sources/source.ts';
import {type TarSource, openTarSource} from '../../src/sources/tar-source.ts';
import {realTgz} from '../helpers/real-fixtures.ts';

const temps: string[] = [];
process.on('exit', () => {
	for (const dir of temps) fs.rmSync(dir, {recursive: true, force: true});
});
function tempDir(label: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-tar-${label}-`));
	temps.push(dir);
	return dir;
}

function tryRun(cmd: string, args: string[]): boolean {
	try {
		execFileSync(cmd, args, {stdio: 'ignore'});
		return true;
	} catch {
		return false;
	}
}

async function openOk(file: string, opts: Parameters<typeof openTarSource>[1] = {}): Promise<TarSource> {
	const r = await openTarSource(file, opts);
	if (!r.ok) throw new Error(`openTarSource(${file}) failed: ${r.error.message}`);
	return r.value;
}

// ---------------------------------------------------------------- comparing two sources

/** Every path under the root, found by listing (never through a symlink). */
function allPaths(source: Source): string[] {
	const out = [''];
	const queue = [''];
	for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
		const listed = source.list(dir);
		if (!listed.ok) continue;
		for (const e of listed.value) {
			const rel = dir === '' ? e.name : `${dir}/${e.name}`;
			out.push(rel);
			if (e.kind === 'dir') queue.push(rel);
		}
	}
	return out.sort();
}

function norm<T>(r: Result<T>, f: (v: T) => unknown = v => v): unknown {
	return r.ok ? {ok: f(r.value)} : {error: r.error};
}

function normStat(s: Stat): unknown {
	return {
		kind: s.kind,
		// A directory's size is file-system specific; an archive cannot know it.
		size: s.kind === 'dir' ? 0 : s.size,
		mode: s.mode,
		uid: s.uid,
		gid: s.gid,
		mtime: Math.floor(s.mtimeMs / 1000),
		rdev: s.rdev,
	};
}

/** Asserts that the archive answers every call exactly as the directory does. */
function assertSame(
	dir: Source,
	tar: Source,
	label: string,
	extraProbes: string[] = [],
	extractedAt = Infinity,
): number {
	const paths = allPaths(dir);
	assert.equal(allPaths(tar), paths, `${label}: same paths`);
	const probes = new Set<string>([
		...paths,
		...paths.map(p => (p === '' ? 'nope' : `${p}/nope`)),
		...extraProbes,
		'',
		'.',
		'nope/deeper',
		'../x',
		'/abs',
		'image/../containers',
		'./image//overlay2',
	]);
	for (const p of probes) {
		const where = `${label}: ${JSON.stringify(p)}`;
		const ds = dir.stat(p);
		// Extraction artifact: a member appended after a directory's time was restored makes the
		// extracted directory newer than the archive says; compare the rest.
		const artifact = ds.ok && ds.value.kind === 'dir' && ds.value.mtimeMs >= extractedAt;
		const statOf = (s: Stat): unknown => (artifact ? {...(normStat(s) as object), mtime: 'extraction'} : normStat(s));
		assert.equal(norm(tar.stat(p), statOf), norm(ds, statOf), `${where} stat`);
		assert.equal(norm(tar.list(p)), norm(dir.list(p)), `${where} list`);
		assert.equal(norm(tar.readLink(p)), norm(dir.readLink(p)), `${where} readLink`);
		const special = ds.ok && (ds.value.kind === 'char' || ds.value.kind === 'block' || ds.value.kind === 'fifo');
		if (special) {
			// dir-source would open the device (or block on the fifo); the archive refuses plainly.
			const r = tar.readFile(p, 1 << 20);
			assert.is(r.ok ? 'ok' : r.error.code, 'not-a-file', `${where} readFile on ${ds.value.kind}`);
			continue;
		}
		assert.equal(norm(tar.readFile(p, 1 << 20)), norm(dir.readFile(p, 1 << 20)), `${where} readFile`);
		assert.equal(norm(tar.readFile(p, 3)), norm(dir.readFile(p, 3)), `${where} readFile (3-byte cap)`);
	}
	return paths.length;
}

// ---------------------------------------------------------------- a small Docker-like tree

const longName = `a-directory-name-that-is-quite-long/${'x'.repeat(90)}/and-a-file-name-past-the-100-character-ustar-limit.txt`;
const longTarget = `../../${'y'.repeat(120)}`;

type Tree = {base: string; root: string; hasDevices: boolean; hasXattr: boolean};

function buildTree(): Tree {
	const base = tempDir('tree');
	const root = path.join(base, 'var', 'lib', 'docker');
	const w = (rel: string, content: string | Buffer, mode?: number): void => {
		const file = path.join(root, rel);
		fs.mkdirSync(path.dirname(file), {recursive: true});
		fs.writeFileSync(file, content);
		if (mode !== undefined) fs.chmodSync(file, mode);
	};
	w('image/overlay2/repositories.json', '{"Repositories":{}}\n');
	w(`image/overlay2/imagedb/content/sha256/${'a'.repeat(64)}`, JSON.stringify({rootfs: {diff_ids: []}}), 0o600);
	w(`image/overlay2/layerdb/sha256/${'b'.repeat(64)}/cache-id`, 'c'.repeat(64));
	w('image/overlay2/big-metadata.json', crypto.randomBytes(3000)); // over the small maxMemberBytes used below
	w('containers/abc/config.v2.json', '{"ID":"abc"}');
	w('containers/abc/hostconfig.json', '{}');
	w('containers/abc/abc-json.log', crypto.randomBytes(200_000));
	w('containers/abc/hostname', 'abc\n');
	fs.linkSync(path.join(root, 'containers/abc/abc-json.log'), path.join(root, 'containers/abc/hardlinked.log'));
	w('overlay2/l1/link', 'ABC');
	w('overlay2/l1/lower', 'l/DEF');
	w('overlay2/l1/diff/etc/passwd', 'root:x:0:0::/root:/bin/sh\n');
	w('overlay2/l1/diff/usr/bin/su', 'ELF', 0o4755);
	w(`overlay2/l1/diff/${longName}`, 'long\n');
	w('overlay2/l1/diff/ünïcödé name.txt', 'utf-8\n');
	w('overlay2/l1/diff/empty', '');
	fs.mkdirSync(path.join(root, 'overlay2/l'), {recursive: true});
	fs.symlinkSync('../l1/diff', path.join(root, 'overlay2/l/ABC'));
	fs.symlinkSync(longTarget, path.join(root, 'overlay2/l1/diff/long-link'));
	fs.symlinkSync('/etc/shadow', path.join(root, 'overlay2/l1/diff/abs-link'));
	fs.mkdirSync(path.join(root, 'tmp/empty-dir'), {recursive: true});
	fs.mkdirSync(path.join(root, 'overlay2/l1/work'), {mode: 0o700});
	// Owners: a small id, and one past the 7-digit octal field (base-256 in GNU format, a PAX record in pax).
	fs.chownSync(path.join(root, 'overlay2/l1/diff/etc/passwd'), 1234, 5678);
	fs.chownSync(path.join(root, 'overlay2/l1/diff/empty'), 3_000_000, 2_500_000);
	// Devices and a fifo (we run as root; skipped where mknod is not allowed).
	fs.mkdirSync(path.join(root, 'overlay2/l1/diff/dev'), {recursive: true});
	const hasDevices =
		tryRun('mknod', [path.join(root, 'overlay2/l1/diff/dev/null0'), 'c', '0', '0']) &&
		tryRun('mknod', [path.join(root, 'overlay2/l1/diff/dev/loop200'), 'b', '7', '200']);
	tryRun('mkfifo', [path.join(root, 'overlay2/l1/diff/dev/fifo')]);
	// An xattr (GNU tar stores it as SCHILY.xattr.* in pax format); python3's os.setxattr, when available.
	const hasXattr = tryRun('python3', [
		'-c',
		`import os; os.setxattr(${JSON.stringify(path.join(root, 'overlay2/l1/diff/usr/bin/su'))}, 'user.layerlens', b'v\\x00\\xff')`,
	]);
	// Times: old, fractional, and in the future; directories last, since writing into them changes theirs.
	fs.utimesSync(path.join(root, 'containers/abc/config.v2.json'), 1_000_000_000, 1_000_000_000.75);
	fs.utimesSync(path.join(root, 'overlay2/l1/diff/etc/passwd'), 4_000_000_000, 4_000_000_000);
	fs.utimesSync(path.join(root, 'tmp/empty-dir'), 1_500_000_000, 1_500_000_000);
	return {base, root, hasDevices, hasXattr};
}

let tree: Tree | undefined;
function getTree(): Tree {
	tree ??= buildTree();
	return tree;
}

type Wrap = '' | 'docker' | 'var/lib/docker';

function makeArchive(t: Tree, format: 'pax' | 'gnu', wrap: Wrap, gz: boolean): string {
	const out = path.join(tempDir('out'), `t.${format}.${wrap.replaceAll('/', '_') || 'top'}.${gz ? 'tgz' : 'tar'}`);
	const where =
		wrap === ''
			? ['-C', t.root, '.']
			: wrap === 'docker'
				? ['-C', path.dirname(t.root), 'docker']
				: ['-C', t.base, 'var'];
	const xattrs = format === 'pax' ? ['--xattrs', '--xattrs-include=*'] : [];
	execFileSync('tar', [`--format=${format}`, ...xattrs, gz ? '-czf' : '-cf', out, ...where], {
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	return out;
}

for (const format of ['pax', 'gnu'] as const) {
	for (const wrap of ['', 'docker', 'var/lib/docker'] as const) {
		for (const gz of [false, true]) {
			test(`tar ${format}, ${gz ? 'gzip' : 'plain'}, root ${wrap === '' ? 'at the top' : `under ${wrap}/`}: same answers as the directory`, async () => {
				const t = getTree();
				const file = makeArchive(t, format, wrap, gz);
				const progress: number[] = [];
				const tar = await openOk(file, {onProgress: n => progress.push(n), maxMemberBytes: 1000});
				assert.is(tar.kind, 'archive');
				assert.is(tar.location, path.resolve(file));
				assert.is(tar.root, wrap);
				assert.equal(tar.problems, []);
				assert.ok(tar.complete);
				assert.ok(
					progress.length > 0 && progress.every((n, i) => i === 0 || n >= (progress[i - 1] ?? 0)),
					'progress increases',
				);
				const count = assertSame(openDirSource(t.root), tar, `${format}/${wrap}/${gz}`, [
					'overlay2/l/ABC/etc',
					'overlay2/l/ABC/etc/passwd',
					'containers/abc/config.v2.json/x',
				]);
				assert.ok(count > 30);
				// Kinds the comparison must have covered.
				const kinds = new Set(
					allPaths(tar).map(p => (tar.stat(p).ok ? (tar.stat(p) as {value: Stat}).value.kind : 'error')),
				);
				for (const k of ['file', 'dir', 'symlink', 'fifo']) assert.ok(kinds.has(k as never), `covers ${k}`);
				if (t.hasDevices) {
					assert.ok(kinds.has('char') && kinds.has('block'));
					const blk = tar.stat('overlay2/l1/diff/dev/loop200');
					assert.equal(blk.ok && blk.value.rdev, {major: 7, minor: 200});
				}
				const link = tar.readLink('overlay2/l1/diff/long-link');
				assert.equal(link, {ok: true, value: longTarget});
				if (format === 'pax' && t.hasXattr) {
					const x = tar.xattrs('overlay2/l1/diff/usr/bin/su');
					assert.equal(x?.['user.layerlens'], Buffer.from([0x76, 0x00, 0xff]));
				}
				assert.equal(tar.xattrs('overlay2/l1/diff/etc/passwd'), {});
				assert.is(tar.xattrs('nope'), undefined);
			});
		}
	}
}

test('metadata stays in memory; other content is read again from the archive', async () => {
	const t = getTree();
	for (const gz of [false, true]) {
		const file = makeArchive(t, 'pax', 'docker', gz);
		const tar = await openOk(file, {maxMemberBytes: 1000});
		fs.rmSync(file);
		// Cached: small metadata files.
		for (const rel of [
			'image/overlay2/repositories.json',
			'containers/abc/config.v2.json',
			'containers/abc/hostconfig.json',
			'overlay2/l1/link',
			'overlay2/l1/lower',
		]) {
			assert.ok(tar.readFile(rel, 1 << 20).ok, `${rel} cached (${gz})`);
		}
		// Not cached: layer content, logs, and metadata over maxMemberBytes.
		for (const rel of ['containers/abc/hostname', 'overlay2/l1/diff/etc/passwd', 'image/overlay2/big-metadata.json']) {
			const r = tar.readFile(rel, 1 << 20);
			assert.is(r.ok ? 'ok' : r.error.code, 'io', `${rel} needs the archive (${gz})`);
		}
		// Too-large is decided from the header, without the archive.
		const big = tar.readFile('containers/abc/abc-json.log', 10);
		assert.is(big.ok ? 'ok' : big.error.code, 'too-large');
		// With the archive in place, uncached content is read again; a hard link reads its target.
		const again = await openOk(makeArchive(t, 'pax', 'docker', gz), {maxMemberBytes: 1000});
		const log = again.readFile('containers/abc/abc-json.log', 1 << 20);
		const hard = again.readFile('containers/abc/hardlinked.log', 1 << 20);
		assert.ok(log.ok && log.value.length === 200_000);
		assert.ok(hard.ok && log.ok && hard.value.equals(log.value), 'a hard link reads its target');
		assert.equal(again.readFile('overlay2/l1/diff/etc/passwd', 100), {
			ok: true,
			value: Buffer.from('root:x:0:0::/root:/bin/sh\n'),
		});
	}
});

// ---------------------------------------------------------------- the real fixtures

for (const name of ['aufs', 'overlay2'] as const) {
	test(`real fixture ${name}.v2.tgz: same answers as its extraction`, async () => {
		const tgz = realTgz(name); // throws under CI when absent
		if (tgz === null) return; // fixtures absent outside CI: skipped (the helper says so)
		const dir = tempDir(`real-${name}`);
		const extractedAt = Date.now() - 2000;
		execFileSync('tar', ['-xzf', tgz, '-C', dir]);
		const tar = await openOk(tgz);
		assert.is(tar.root, 'docker');
		assert.equal(tar.problems, []);
		const count = assertSame(openDirSource(path.join(dir, 'docker')), tar, name, [], extractedAt);
		assert.ok(count > 100, `${name}: ${count} paths`);
	});
}

// ---------------------------------------------------------------- hostile archives

/** A hand-made tar header (ustar layout), with a correct checksum unless told otherwise. */
function header(
	name: string,
	o: {
		type?: string;
		size?: number | Buffer;
		mode?: number;
		uid?: number | Buffer;
		linkname?: string;
		mtime?: number;
		badChecksum?: boolean;
	} = {},
): Buffer {
	const b = Buffer.alloc(512);
	const put = (s: string | Buffer, at: number, len: number): void => {
		const bytes = typeof s === 'string' ? Buffer.from(s) : s;
		bytes.copy(b, at, 0, Math.min(len, bytes.length));
	};
	const octal = (n: number, len: number): string => `${n.toString(8).padStart(len - 1, '0')}\0`;
	put(name, 0, 100);
	put(octal(o.mode ?? 0o644, 8), 100, 8);
	put(typeof o.uid === 'object' ? o.uid : octal(o.uid ?? 0, 8), 108, 8);
	put(octal(0, 8), 116, 8);
	put(typeof o.size === 'object' ? o.size : octal(o.size ?? 0, 12), 124, 12);
	put(octal(o.mtime ?? 1_600_000_000, 12), 136, 12);
	put(o.type ?? '0', 156, 1);
	put(o.linkname ?? '', 157, 100);
	put('ustar\u000000', 257, 8);
	b.fill(0x20, 148, 156);
	let sum = 0;
	for (const byte of b) sum += byte;
	if (o.badChecksum) sum += 1;
	put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
	return b;
}

function member(name: string, content: string | Buffer, o: Parameters<typeof header>[1] = {}): Buffer {
	const data = typeof content === 'string' ? Buffer.from(content) : content;
	const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
	return Buffer.concat([header(name, {size: data.length, ...o}), data, pad]);
}

function pax(name: string, records: Record<string, string | Buffer>, type = 'x'): Buffer {
	const parts: Buffer[] = [];
	for (const [key, value] of Object.entries(records)) {
		const body = Buffer.concat([
			Buffer.from(` ${key}=`),
			typeof value === 'string' ? Buffer.from(value) : value,
			Buffer.from('\n'),
		]);
		let length = body.length + 1;
		while (String(length).length + body.length !== length) length = String(length).length + body.length;
		parts.push(Buffer.concat([Buffer.from(String(length)), body]));
	}
	return member(name, Buffer.concat(parts), {type});
}

const endMarker = Buffer.alloc(1024);

function writeTemp(name: string, bytes: Buffer): string {
	const file = path.join(tempDir('hostile'), name);
	fs.writeFileSync(file, bytes);
	return file;
}

test('hostile: truncated .tgz (cut at half) opens, with what was read, and says so', async () => {
	const t = getTree();
	const sources = [makeArchive(t, 'gnu', 'docker', true)];
	const real = realTgz('overlay2');
	if (real !== null) sources.push(real);
	for (const full of sources) {
		const bytes = fs.readFileSync(full);
		const file = writeTemp('half.tgz', bytes.subarray(0, bytes.length >> 1));
		const tar = await openOk(file);
		assert.not.ok(tar.complete);
		assert.ok(
			tar.problems.some(p => /truncated|gzip/.test(p)),
			tar.problems.join('\n'),
		);
		// Every path that is indexed answers without throwing; files read or fail with 'io'.
		for (const p of allPaths(tar)) {
			const s = tar.stat(p);
			assert.ok(s.ok);
			if (s.value.kind === 'file') {
				const r = tar.readFile(p, 1 << 20);
				assert.ok(
					r.ok || r.error.code === 'io' || r.error.code === 'too-large',
					`${p}: ${r.ok ? '' : r.error.message}`,
				);
			}
		}
	}
});

test('hostile: random bytes, empty files, directories and other compressions are refused with io', async () => {
	const cases: Array<[string, Buffer]> = [
		['random.tar', crypto.randomBytes(10_000)],
		['random-gz.tgz', Buffer.concat([Buffer.from([0x1f, 0x8b]), crypto.randomBytes(10_000)])],
		['gzip-of-junk.tgz', zlib.gzipSync(crypto.randomBytes(5000))],
		['empty.tar', Buffer.alloc(0)],
		['short.tar', Buffer.from('hello')],
		['zstd.tar.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])],
	];
	for (const [name, bytes] of cases) {
		const r = await openTarSource(writeTemp(name, bytes));
		assert.is(r.ok ? 'ok' : r.error.code, 'io', name);
		if (name.endsWith('.zst') && !r.ok) assert.match(r.error.message, /zstd/);
	}
	for (const target of [tempDir('a-dir'), '/nonexistent/archive.tar']) {
		const r = await openTarSource(target);
		assert.is(r.ok ? 'ok' : r.error.code, 'io', target);
	}
});

test("hostile: members with '..' are refused, recorded, and not indexed", async () => {
	const file = writeTemp(
		'dotdot.tar',
		Buffer.concat([
			member('docker/image/repositories.json', '{}'),
			member('../../etc/passwd', 'root::0:0'),
			member('docker/../../x', 'x'),
			member('docker/containers/../../../y', 'y'),
			member('docker/containers/c/hl', '', {type: '1', linkname: '../../etc/passwd'}),
			member('/docker/containers/c/config.v2.json', '{"ID":"c"}'),
			endMarker,
		]),
	);
	const tar = await openOk(file);
	assert.is(tar.root, 'docker');
	assert.is(tar.problems.filter(p => p.includes("'..'")).length, 4, tar.problems.join('\n'));
	assert.equal(allPaths(tar), [
		'',
		'containers',
		'containers/c',
		'containers/c/config.v2.json',
		'image',
		'image/repositories.json',
	]);
	assert.equal(tar.readFile('containers/c/config.v2.json', 100), {ok: true, value: Buffer.from('{"ID":"c"}')});
	assert.is((tar.stat('../etc/passwd') as {ok: false; error: {code: string}}).error.code, 'bad-path');
});

test('hostile: a bad header checksum ends parsing; earlier members stay usable', async () => {
	const file = writeTemp(
		'badsum.tar',
		Buffer.concat([
			member('image/a', 'first'),
			member('image/b', 'second', {badChecksum: true}),
			member('image/c', 'third'),
			endMarker,
		]),
	);
	const tar = await openOk(file);
	assert.not.ok(tar.complete);
	assert.ok(
		tar.problems.some(p => p.includes('checksum')),
		tar.problems.join('\n'),
	);
	assert.equal(tar.readFile('image/a', 100), {ok: true, value: Buffer.from('first')});
	assert.is((tar.stat('image/b') as {ok: false; error: {code: string}}).error.code, 'missing');
	assert.is((tar.stat('image/c') as {ok: false; error: {code: string}}).error.code, 'missing');
});

test('hostile: absurd sizes, duplicates, deep paths, symlinked parents, implied directories', async () => {
	const deep = Array.from({length: 2000}, () => 'd').join('/');
	const huge = Buffer.alloc(12);
	huge[0] = 0x80;
	huge.writeUInt32BE(0xffffffff, 8);
	huge.writeUInt32BE(0x00ffffff, 4); // 2^56-ish: base-256, beyond 2^53
	const file = writeTemp(
		'mixed.tar',
		Buffer.concat([
			member('image/dup', 'old'),
			member('image/dup', 'new'),
			pax('PaxHeaders/deep', {path: `containers/${deep}/f`}),
			member('placeholder', 'deep'),
			member('graph', '', {type: '2', linkname: '/etc'}),
			member('graph/passwd', 'through a symlink'),
			member('overlay2/x/diff/implied/file', 'implied parents'),
			member('image/big-uid', 'u', {uid: Buffer.from([0x80, 0, 0, 0, 0x3b, 0x9a, 0xca, 0x00])}),
			header('image/absurd', {size: huge}),
			member('image/never', 'unreachable'),
		]),
	);
	const tar = await openOk(file);
	assert.ok(
		tar.problems.some(p => p.includes('size')),
		tar.problems.join('\n'),
	);
	assert.equal(tar.readFile('image/dup', 100), {ok: true, value: Buffer.from('new')});
	assert.equal(tar.readFile(`containers/${deep}/f`, 100), {ok: true, value: Buffer.from('deep')});
	const through = tar.stat('graph/passwd');
	assert.equal(through.ok ? null : through.error, {
		code: 'symlink',
		path: 'graph',
		message: 'is a symlink; not followed',
	});
	const implied = tar.stat('overlay2/x/diff/implied');
	assert.equal(implied.ok && implied.value, {kind: 'dir', size: 0, mode: 0o40755, uid: 0, gid: 0, mtimeMs: 0});
	assert.equal(tar.list('overlay2/x/diff'), {ok: true, value: [{name: 'implied', kind: 'dir'}]});
	const big = tar.stat('image/big-uid');
	assert.is(big.ok && big.value.uid, 1_000_000_000);
	assert.is((tar.stat('image/never') as {ok: false; error: {code: string}}).error.code, 'missing');
});

test('PAX: global and local headers, xattrs per entry, GNU long names, sub-second times', async () => {
	const file = writeTemp(
		'pax.tar',
		Buffer.concat([
			pax('pax_global_header', {uid: '42', 'SCHILY.xattr.user.global': 'g'}, 'g'),
			pax('PaxHeaders/1', {
				path: `wrap/image/${'p'.repeat(150)}`,
				mtime: '1700000000.5',
				'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0, 2, 0xff]),
			}),
			member('ignored-name', 'pax body'),
			pax('PaxHeaders/2', {uid: '', 'SCHILY.xattr.user.local': 'l'}),
			member('wrap/image/local', 'x', {uid: 7}),
			member('././@LongLink', `wrap/containers/${'q'.repeat(200)}\0`, {type: 'L'}),
			member('short', 'gnu long name'),
			endMarker,
		]),
	);
	const tar = await openOk(file);
	assert.equal(tar.problems, []);
	assert.is(tar.root, 'wrap');
	const long = `image/${'p'.repeat(150)}`;
	assert.equal(tar.readFile(long, 100), {ok: true, value: Buffer.from('pax body')});
	const s = tar.stat(long);
	assert.ok(s.ok && s.value.mtimeMs === 1_700_000_000_500 && s.value.uid === 42);
	assert.equal(tar.xattrs(long), {
		'user.global': Buffer.from('g'),
		'security.capability': Buffer.from([1, 0, 0, 2, 0xff]),
	});
	const local = tar.stat('image/local');
	assert.ok(local.ok && local.value.uid === 7, 'an empty local value unsets the global one');
	assert.equal(tar.xattrs('image/local'), {'user.global': Buffer.from('g'), 'user.local': Buffer.from('l')});
	assert.equal(tar.readFile(`containers/${'q'.repeat(200)}`, 100), {ok: true, value: Buffer.from('gnu long name')});
});

test('hostile: randomly damaged archives never throw, and every answer is a Result', async () => {
	const base = fs.readFileSync(makeArchive(getTree(), 'gnu', 'docker', false));
	let seed = 42;
	const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
	for (let round = 0; round < 60; round++) {
		const bytes = Buffer.from(base);
		const hits = 1 + Math.floor(random() * 12);
		for (let i = 0; i < hits; i++) {
			// Mostly in header blocks, where damage matters.
			const at =
				Math.floor(random() * (bytes.length / 512)) * 512 + Math.floor(random() * (random() < 0.7 ? 160 : 512));
			bytes[at] = Math.floor(random() * 256);
		}
		const cut = random() < 0.3 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
		const file = writeTemp(`fuzz-${round}.tar`, random() < 0.3 ? zlib.gzipSync(cut) : cut);
		const r = await openTarSource(file);
		if (!r.ok) {
			assert.is(r.error.code, 'io');
			continue;
		}
		for (const p of allPaths(r.value)) {
			for (const result of [r.value.stat(p), r.value.readFile(p, 1 << 20), r.value.readLink(p), r.value.list(p)]) {
				assert.type(result.ok, 'boolean');
			}
		}
	}
});

test('a gzip archive whose root is not a common prefix still keeps its metadata in memory', async () => {
	const tgz = writeTemp(
		'second-pass.tgz',
		zlib.gzipSync(
			Buffer.concat([
				member('other/file', 'x'.repeat(5000)),
				member('host/containers/c/config.v2.json', '{"ID":"c"}'),
				member('host/image/overlay2/repositories.json', '{}'),
				endMarker,
			]),
		),
	);
	const tar = await openOk(tgz);
	assert.is(tar.root, 'host');
	fs.rmSync(tgz);
	assert.equal(tar.readFile('containers/c/config.v2.json', 100), {ok: true, value: Buffer.from('{"ID":"c"}')});
	assert.equal(tar.readFile('image/overlay2/repositories.json', 100), {ok: true, value: Buffer.from('{}')});
});

test.run();
