import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import type {Owner} from '../../src/disk/path-owner.ts';
import {relativeToRoot} from '../../src/commands/which.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {compareSample} from '../helpers/which-reference.ts';
import {basicC8dRoot} from '../helpers/c8d-root.ts';
import {buildOwnerMap} from '../../src/disk/path-owner.ts';
import {type CliResult, cliIn} from '../helpers/run-cli.ts';

/** The CLI in process on ROOT (test/helpers/run-cli.ts). */
const cli = (root: string, ...argv: string[]): Promise<CliResult> => cliIn(['-r', root, ...argv]);

test('overlay2.v2 and aufs.v2: 1000 random paths each name the owner the brute-force reference names', () => {
	for (const name of ['overlay2', 'aufs'] as const) {
		const root = realRoot(name);
		if (root === null) return console.log('  (skipped: no real fixtures here)');
		const kinds = compareSample(root, name === 'overlay2' ? 14 : 41);
		// The sample reaches every kind of owner these roots have.
		for (const k of ['layer', 'container', 'image', 'daemon'])
			assert.ok((kinds.get(k) ?? 0) > 0, `${name}: ${k} ${JSON.stringify([...kinds])}`);
	}
});

test('overlay2.v2 with planted orphans, leftovers, a volume and BuildKit directories: the same owners as the reference', () => {
	const real = realRoot('overlay2');
	if (real === null) return console.log('  (skipped: no real fixtures here)');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-which-'));
	try {
		const root = path.join(dir, 'docker');
		fs.cpSync(real, root, {recursive: true, verbatimSymlinks: true});
		const plant = (rel: string, text = 'x') => {
			fs.mkdirSync(path.dirname(path.join(root, rel)), {recursive: true});
			fs.writeFileSync(path.join(root, rel), text);
		};
		const orphan = 'ab'.repeat(32);
		const gone = 'cd'.repeat(32);
		const kept = 'ef'.repeat(32);
		plant(`overlay2/${orphan}/diff/usr/lib/big.so`, 'y'.repeat(5000));
		plant(`overlay2/${orphan}/link`, 'ORPHANSHORTNAMEXXXXXXXXXXX');
		plant(`overlay2/${orphan}-init/diff/etc/hostname`);
		plant(`overlay2/abcdefghij0123456789klmno/diff/cache/file`);
		plant(`overlay2/${kept}/diff/data`);
		plant(`overlay2/${kept}-init/diff/etc/hosts`);
		plant(`image/overlay2/layerdb/mounts/${gone}/mount-id`, kept);
		plant(`image/overlay2/layerdb/mounts/${gone}/init-id`, `${kept}-init`);
		plant('tmp/docker-export-123/part');
		plant('volumes/cache/_data/a/b.txt', 'volume');
		plant('something-else/file');
		fs.symlinkSync('../nowhere/diff', path.join(root, 'overlay2/l/DANGLINGLINKXXXXXXXXXXXXXX'));
		const kinds = compareSample(root, 7);
		for (const k of ['orphan', 'build-cache', 'volume', 'other'])
			assert.ok((kinds.get(k) ?? 0) > 0, `${k} ${JSON.stringify([...kinds])}`);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('the containerd store: snapshots, content blobs and the metadata database have the owners the reference names', () => {
	const {r, base, ctr} = basicC8dRoot();
	try {
		r.save();
		const kinds = compareSample(r.dir, 3);
		for (const k of ['layer', 'container', 'image', 'daemon', 'containerd-content'])
			assert.ok((kinds.get(k) ?? 0) > 0, `${k} ${JSON.stringify([...kinds])}`);
		const loaded = loadModel(openSource(r.dir));
		const owners = buildOwnerMap(loaded.source, loaded.raw, loaded.model);
		const blob = (d: string) =>
			`containerd/daemon/io.containerd.content.v1.content/blobs/sha256/${d.replace('sha256:', '')}`;
		assert.equal(
			[owners.ownerOf(blob(base.manifest.digest)).role, owners.ownerOf(blob(base.manifest.digest)).imageId],
			['image-manifest', base.manifest.digest],
		);
		assert.is(owners.ownerOf('containerd/daemon/io.containerd.metadata.v1.bolt/meta.db').kind, 'daemon');
		const rw = loaded.model.containers.find(c => c.id === ctr)!.chain[0]!;
		assert.equal([owners.ownerOf(`${rw.path}/etc`).kind, owners.ownerOf(`${rw.path}/etc`).role], ['container', 'rw']);
	} finally {
		r.remove();
	}
});

test('which: text and JSON, absolute and relative paths, a short link, paths not there (exit 1)', async () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const model = loadModel(openSource(root)).model;
	const c = model.containers.find(x => x.mountId !== null)!;
	const short = fs.readFileSync(path.join(root, 'overlay2', c.mountId!, 'link'), 'utf8').trim();
	const rw = `overlay2/${c.mountId}/diff`;
	const ok = await cli(
		root,
		'which',
		'--json',
		path.join(root, rw),
		`./${rw}/`,
		`overlay2/l/${short}`,
		`containers/${c.id}/config.v2.json`,
	);
	assert.is(ok.code, 0, ok.stderr);
	const j = JSON.parse(ok.stdout) as {
		schema: number;
		paths: Array<{rel: string; exists: boolean; type: string; owner: Owner}>;
	};
	assert.is(j.schema, 1);
	assert.equal(
		j.paths.map(p => [p.rel, p.owner.kind, p.owner.role, p.owner.containerId]),
		[
			[rw, 'container', 'rw', c.id],
			[rw, 'container', 'rw', c.id],
			[`overlay2/l/${short}`, 'container', 'short-link', c.id],
			[`containers/${c.id}/config.v2.json`, 'container', 'config', c.id],
		],
	);
	assert.equal(
		j.paths.map(p => p.type),
		['dir', 'dir', 'symlink', 'file'],
	);
	const text = await cli(root, 'which', rw, 'no/such/file', '/etc/passwd', '../outside');
	assert.is(text.code, 1);
	assert.match(
		text.stdout,
		new RegExp(`^${rw}\\n  container ${c.name} ${c.id.slice(0, 12)} \\(RW layer\\): the container's RW layer\\n`),
	);
	assert.match(text.stdout, /no\/such\/file\n {2}not in the root\n/);
	assert.match(text.stdout, /\/etc\/passwd\n {2}not under the root\n/);
	assert.match(text.stdout, /\.\.\/outside\n {2}not under the root\n/);
	// An image layer: its chain id, the images and containers using it.
	const l = model.layers.find(x => x.containers.length > 0)!;
	const layer = await cli(root, 'which', `${l.path}/bin`);
	assert.is(layer.code, 0);
	assert.match(layer.stdout, new RegExp(`chain id: ${l.chainId}\\n`));
	assert.match(
		layer.stdout,
		new RegExp(`images: ${l.images.map(i => i.replace('sha256:', '').slice(0, 12)).join(', ')}\\n`),
	);
	assert.match(layer.stdout, /containers: .+\n/);
	assert.is((await cli(root, 'which')).code, 2, 'no PATH is a usage error');
	const aufs = realRoot('aufs');
	if (aufs !== null) {
		const j = JSON.parse(
			(await cli(aufs, 'which', '--json', 'aufs', 'aufs/layers', 'aufs/mnt', 'image/aufs')).stdout,
		) as {paths: Array<{owner: Owner}>};
		assert.equal(
			j.paths.map(p => [p.owner.kind, p.owner.role]),
			[
				['daemon', 'store'],
				['daemon', 'store'],
				['daemon', 'store'],
				['daemon', 'store'],
			],
			"a driver's own directories are the daemon's",
		);
	}
});

test('relativeToRoot: lexical, never above the root', () => {
	assert.is(relativeToRoot('/r/a/b', '/r'), 'a/b');
	assert.is(relativeToRoot('/r', '/r'), '');
	assert.is(relativeToRoot('/r/../x', '/r'), null);
	assert.is(relativeToRoot('/rx/a', '/r'), null);
	assert.is(relativeToRoot('a//b/./c/', '/r'), 'a/b/c');
	assert.is(relativeToRoot('.', '/r'), '');
	assert.is(relativeToRoot('a/../../b', '/r'), null);
	assert.is(
		relativeToRoot('/c8d/io.x/y', '/r', {location: '/c8d', shownAs: 'containerd/daemon'}),
		'containerd/daemon/io.x/y',
	);
});

test.run();
