// `files LAYER --tar-split`: an image layer listed from its tar-split.json.gz record (the reference layout notes §7,
// vbatts/tar-split tar/storage/entry.go) instead of its directory. Real data decides: on the sample (a real
// dockerd's overlay2 state) the record's listing equals the directory's for every image layer; on the two
// real trees it shows what the record kept where the copy's files differ. Records built here cover every
// whiteout form, hard links, long and hostile names, and damaged records.
import fs from 'node:fs';
import path from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import zlib from 'node:zlib';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {type TarEntry, entryHeader, padding, trailer} from '../../src/files/tar-writer.ts';
import {sampleRoot} from '../helpers/check-roots.ts';
import {copyTree} from '../helpers/fake-root.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {cliIn as cli} from '../helpers/run-cli.ts';

type Row = {
	path: string;
	type: string;
	mode: string;
	size: number;
	uid: number;
	gid: number;
	mtime: string;
	status?: string;
	linkTarget?: string;
	hardlinkTo?: string;
	device?: unknown;
	layer: string;
};
type Listing = {entries: Row[]; findings: Array<{code: string; severity: string; message: string}>};

async function list(root: string, ...args: string[]): Promise<Listing> {
	const r = await cli(['--root', root, 'files', ...args, '--json']);
	assert.is(r.code, 0, r.stderr);
	return JSON.parse(r.stdout) as Listing;
}

type LayerDto = {chainId: string; cacheId: string; driver: string; path: string};

async function imageLayers(root: string): Promise<Array<LayerDto & {metaPath: string}>> {
	const r = await cli(['--root', root, 'model', '--json']);
	assert.is(r.code, 0, r.stderr);
	const layers = (JSON.parse(r.stdout) as {layers: LayerDto[]}).layers;
	return layers.map(l => ({...l, metaPath: `image/${l.driver}/layerdb/${l.chainId.replace(':', '/')}`}));
}

/** The fields both listings carry; a whiteout is compared by what it deletes (a 0/0 device on disk, a `.wh.` file in the tar). */
function comparable(r: Row): Record<string, unknown> {
	if (r.type === 'whiteout') return {path: r.path, type: r.type, status: r.status};
	return {
		path: r.path,
		type: r.type,
		status: r.status,
		mode: r.mode,
		size: r.size,
		uid: r.uid,
		gid: r.gid,
		mtime: r.mtime.slice(0, 19),
		linkTarget: r.linkTarget,
	};
}

test('sample (real dockerd overlay2): every image layer listed from its record equals its directory', async () => {
	const root = sampleRoot();
	const layers = await imageLayers(root);
	assert.ok(layers.length >= 5);
	let whiteouts = 0;
	for (const l of layers) {
		const fromRecord = await list(root, l.chainId, '--tar-split');
		const fromDir = await list(root, l.chainId);
		assert.equal(fromRecord.findings, []);
		assert.ok(fromRecord.entries.length > 0, l.chainId);
		const byPath = (rows: Row[]) =>
			[...rows].map(comparable).sort((a, b) => ((a.path as string) < (b.path as string) ? -1 : 1));
		assert.equal(byPath(fromRecord.entries), byPath(fromDir.entries), l.chainId);
		for (const r of fromRecord.entries) assert.is(r.layer, l.cacheId);
		whiteouts += fromRecord.entries.filter(r => r.type === 'whiteout').length;
	}
	assert.ok(whiteouts >= 1, 'the sample deletes /bin/cat in a layer');
});

test('sample: PATH limits the record listing, text lines carry the status', async () => {
	const root = sampleRoot();
	let withWhiteout: LayerDto | undefined;
	for (const l of await imageLayers(root)) {
		if (
			withWhiteout === undefined &&
			(await list(root, l.chainId, '--tar-split')).entries.some(r => r.type === 'whiteout')
		)
			withWhiteout = l;
	}
	assert.ok(withWhiteout !== undefined);
	const r = await cli(['--root', root, 'files', withWhiteout.chainId, '/bin', '--tar-split']);
	assert.is(r.code, 0, r.stderr);
	assert.match(r.stdout, /^deleted {2}whiteout .* \/bin\/cat$/m);
	for (const line of r.stdout.trim().split('\n')) assert.match(line, / \/bin(\/|$)/);
});

for (const name of ['aufs', 'overlay2'] as const) {
	test(`real ${name} tree: the record lists the layer's paths; owners and modes are what docker recorded, not the copy's`, async () => {
		const root = realRoot(name);
		if (root === null) return;
		let compared = 0;
		let differing = 0;
		for (const l of await imageLayers(root)) {
			if (!fs.existsSync(path.join(root, l.path)) || !fs.existsSync(path.join(root, l.metaPath, 'tar-split.json.gz')))
				continue;
			const rec = await list(root, l.chainId, '--tar-split');
			const dir = await list(root, l.chainId);
			assert.equal(rec.entries.map(r => r.path).sort(), dir.entries.map(r => r.path).sort());
			const dirBy = new Map(dir.entries.map(r => [r.path, r]));
			for (const r of rec.entries) {
				const d = dirBy.get(r.path)!;
				assert.is(r.status, d.status, r.path);
				assert.is(r.type, d.type, r.path);
				assert.is(r.mtime.slice(0, 19), d.mtime.slice(0, 19), r.path);
				if (r.hardlinkTo !== undefined) assert.is(r.size, 0);
				else if (r.type === 'file') assert.is(r.size, d.size, r.path);
				// These trees were copied by a user with other ids (and, for aufs, a umask): the record keeps docker's.
				assert.ok(r.uid < 65536, `${r.path}: recorded uid ${r.uid}`);
				if (r.uid !== d.uid || r.mode !== d.mode) differing++;
				compared++;
			}
		}
		assert.ok(compared > 100, `compared ${compared}`);
		assert.ok(differing > 0, 'the copies changed owners');
	});
}

test('a layer whose directory is missing is listed from its record, with an info finding', async () => {
	const dir = copyTree(sampleRoot());
	try {
		const l = (await imageLayers(dir)).find(x => x.path.endsWith('/diff'))!;
		const expected = (await list(dir, l.chainId, '--tar-split')).entries;
		fs.rmSync(path.join(dir, path.dirname(l.path)), {recursive: true});
		const got = await list(dir, l.chainId);
		assert.equal(got.entries.map(comparable), expected.map(comparable));
		assert.equal(
			got.findings.map(f => [f.code, f.severity]),
			[['files.from-tar-split', 'info']],
		);
		assert.match(got.findings[0]!.message, /is missing/);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('usage: --tar-split takes one image layer; elsewhere it is refused', async () => {
	const root = sampleRoot();
	for (const args of [
		['files', 'local/app:1', '--tar-split'],
		['ls', '--tar-split'],
		['files', 'nosuchthing', '--tar-split'],
	]) {
		const r = await cli(['--root', root, ...args]);
		assert.is(r.code, 2, args.join(' '));
		assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
	}
	const model = JSON.parse((await cli(['--root', root, 'model', '--json'])).stdout) as {
		containers: Array<{mountId: string; name: string}>;
	};
	const c = model.containers[0]!;
	for (const ref of [c.mountId, c.name]) {
		const r = await cli(['--root', root, 'files', ref, '--tar-split']);
		assert.is(r.code, 2);
		assert.match(r.stderr, /--tar-split/);
	}
});

// ---- records built here ----

type Item = TarEntry & {data?: Buffer};

/** A tar-split record of the tar made of `items`, as tar-split's disassembler writes it: raw bytes as segments, file contents as CRC entries. */
function record(items: Item[], opts: {lie?: number} = {}): Buffer {
	const lines: string[] = [];
	let position = 0;
	let pendingPad = 0;
	for (const it of items) {
		const seg = Buffer.concat([Buffer.alloc(pendingPad), entryHeader(it)]);
		lines.push(JSON.stringify({type: 2, payload: seg.toString('base64'), position: position++}));
		const size = it.type === 'file' ? it.size : 0;
		lines.push(
			JSON.stringify({
				type: 1,
				name: it.name,
				...(size > 0 ? {size: size + (opts.lie ?? 0)} : {}),
				payload: size > 0 ? Buffer.alloc(8).toString('base64') : null,
				position: position++,
			}),
		);
		pendingPad = size > 0 ? padding(size) : 0;
	}
	lines.push(
		JSON.stringify({
			type: 2,
			payload: Buffer.concat([Buffer.alloc(pendingPad), trailer()]).toString('base64'),
			position: position++,
		}),
	);
	return zlib.gzipSync(`${lines.join('\n')}\n`);
}

const t0 = Date.UTC(2024, 0, 2, 3, 4, 5);
const e = (name: string, type: Item['type'], extra: Partial<Item> = {}): Item => ({
	name,
	type,
	mode: type === 'dir' ? 0o755 : 0o644,
	uid: 0,
	gid: 0,
	mtimeMs: t0,
	size: 0,
	...extra,
});

/** A copy of the sample whose top layer of local/app:1 has `rec` as its record; returns [root, chain id]. */
async function withRecord(rec: Buffer | null): Promise<[string, string]> {
	const dir = copyTree(sampleRoot());
	const model = JSON.parse((await cli(['--root', dir, 'inspect', 'local/app:1', '--json'])).stdout) as {
		chainIds: string[];
	};
	const top = model.chainIds[model.chainIds.length - 1]!;
	const meta = (await imageLayers(dir)).find(l => l.chainId === top)!.metaPath;
	const file = path.join(dir, meta, 'tar-split.json.gz');
	if (rec === null) fs.rmSync(file);
	else fs.writeFileSync(file, rec);
	return [dir, top];
}

test('built record: every whiteout form, hard links, devices, long and hostile names', async () => {
	const long = `deep/${'d'.repeat(120)}/${'f'.repeat(150)}`;
	const [dir, top] = await withRecord(
		record([
			e('bin/', 'dir'),
			e('bin/.wh.cat', 'file'),
			e('app/', 'dir'),
			e('app/.wh..wh..opq', 'file'),
			e('app/new', 'file', {size: 3}),
			e('etc/', 'dir'),
			e('etc/.wh..wh..opq', 'file'),
			e('etc/hard', 'hardlink', {linkname: 'app/new'}),
			e('etc/link', 'symlink', {linkname: '/../../outside', mode: 0o777}),
			e('dev/', 'dir'),
			e('dev/null', 'char', {devmajor: 1, devminor: 3}),
			e('deep/', 'dir'),
			e(`deep/${'d'.repeat(120)}/`, 'dir'),
			e(long, 'file', {size: 1}),
			e('evil\x1b[2Jname', 'file', {size: 1}),
			e('.wh..wh.plnk/', 'dir'),
		]),
	);
	try {
		const got = await list(dir, top, '--tar-split');
		assert.equal(got.findings, []);
		const by = new Map(got.entries.map(r => [r.path, r]));
		assert.is(by.get('/bin/cat')!.status, 'deleted');
		assert.is(by.get('/bin/cat')!.type, 'whiteout');
		assert.is(by.get('/bin')!.status, 'modified');
		assert.is(by.get('/app')!.status, 'opaque');
		assert.is(by.get('/etc')!.status, 'opaque', 'an opaque marker after another entry still marks its directory');
		assert.is(by.get('/app/new')!.status, 'added');
		assert.is(by.get('/app/new')!.size, 3);
		assert.is(by.get('/etc/hard')!.hardlinkTo, '/app/new');
		assert.is(by.get('/etc/link')!.linkTarget, '/../../outside');
		assert.equal(by.get('/dev/null')!.device, {major: 1, minor: 3});
		assert.ok(by.has(`/${long}`), 'PAX long name');
		assert.ok(by.has('/evil\x1b[2Jname'), 'JSON keeps the exact name');
		assert.not.ok(
			[...by.keys()].some(p => p.includes('.wh.')),
			'markers are not listed as files',
		);
		const text = await cli(['--root', dir, 'files', top, '--tar-split']);
		assert.is(text.code, 0);
		assert.not.match(text.stdout, /\x1b/);
		assert.match(text.stdout, /evil\\x1b\[2Jname/);
		assert.match(stripVTControlCharacters(text.stdout), /^opaque {3}drwxr-xr-x .* \/app\/$/m);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('damaged records: a finding each, what was read is kept, no stack trace', async () => {
	const good = record([e('a/', 'dir'), e('a/one', 'file', {size: 5}), e('a/two', 'file', {size: 700})]);
	const cases: Array<[string, Buffer | null, string, number]> = [
		['missing', null, 'files.tar-split-missing', 0],
		['not gzip', Buffer.from('{"type":2}\n'), 'files.tar-split-invalid', 0],
		['truncated', good.subarray(0, Math.floor(good.length / 2)), 'files.tar-split-invalid', -1],
		[
			'sizes that do not match the headers',
			record([e('a/', 'dir'), e('a/one', 'file', {size: 5}), e('a/two', 'file', {size: 700})], {lie: 600}),
			'files.tar-split-invalid',
			2,
		],
		['not JSON', zlib.gzipSync('{"type":2,"payload":"AAAA"}\nnot json\n'), 'files.tar-split-invalid', 0],
	];
	for (const [what, rec, code, atLeast] of cases) {
		const [dir, top] = await withRecord(rec);
		try {
			const r = await cli(['--root', dir, 'files', top, '--tar-split', '--json']);
			assert.is(r.code, 0, `${what}: ${r.stderr}`);
			assert.not.match(r.stderr, /\n\s+at /, what);
			const got = JSON.parse(r.stdout) as Listing;
			assert.ok(
				got.findings.some(f => f.code === code && f.severity === 'error'),
				`${what}: ${JSON.stringify(got.findings)}`,
			);
			if (atLeast >= 0) assert.ok(got.entries.length >= atLeast, `${what}: ${got.entries.length} entries`);
			const text = await cli(['--root', dir, 'files', top, '--tar-split']);
			assert.is(text.code, 0);
			assert.match(text.stderr, new RegExp(`\\[${code.replace('.', '\\.')}\\]`));
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	}
});

test.run();
