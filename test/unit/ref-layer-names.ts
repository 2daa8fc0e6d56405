import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../../src/load.ts';
import {resolveRef} from '../../src/model/resolve.ts';
import {shortNameReader} from '../../src/read/drivers/records.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {FakeRoot} from '../helpers/fake-root.ts';
import {type CliResult, cliIn} from '../helpers/run-cli.ts';

// A container's own layers name it as a REF: its RW layer's cache id (and a prefix of it), its init
// layer's `-init` name, and the `l/` short names of both; an image layer's short name names the layer.

/** The CLI in process on ROOT (test/helpers/run-cli.ts). */
const cli = (root: string, ...argv: string[]): Promise<CliResult> => cliIn(['-r', root, ...argv]);

test('overlay2.v2: cache id, -init name, l/ short names and a RW prefix each resolve to their container', () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const source = openSource(root);
	const model = loadModel(source).model;
	const opts = {shortName: shortNameReader(source)};
	const withLayers = model.containers.filter(c => c.mountId !== null && c.initId !== null);
	assert.ok(withLayers.length >= 3, 'the fixture has containers with RW and init layers');
	for (const c of withLayers) {
		const shortRw = fs.readFileSync(path.join(root, 'overlay2', c.mountId!, 'link'), 'utf8').trim();
		const shortInit = fs.readFileSync(path.join(root, 'overlay2', c.initId!, 'link'), 'utf8').trim();
		const cases: Array<[string, 'rw' | 'init', string]> = [
			[c.mountId!, 'rw', 'cache-id'],
			[c.initId!, 'init', 'cache-id'],
			[`${c.mountId}-init`, 'init', 'cache-id'],
			[shortRw, 'rw', 'short-name'],
			[`l/${shortRw}`, 'rw', 'short-name'],
			[`overlay2/l/${shortInit}`, 'init', 'short-name'],
			[c.mountId!.slice(0, 12), 'rw', 'prefix'],
		];
		for (const [ref, role, by] of cases) {
			const r = resolveRef(model, ref, opts);
			assert.ok(r.ok, `${ref}: ${r.ok ? '' : r.error}`);
			if (!r.ok || r.value.kind !== 'container') throw new Error(`${ref} did not name a container`);
			assert.is(r.value.container.id, c.id, ref);
			assert.equal(r.value.via, {role, cacheId: role === 'rw' ? c.mountId : c.initId, by}, ref);
		}
		// Without the reader, a short name names nothing.
		assert.not.ok(resolveRef(model, shortRw).ok);
	}
	// An image layer's short name names the layer.
	const layer = model.layers.find(
		l => l.cacheId !== null && fs.existsSync(path.join(root, 'overlay2', l.cacheId, 'link')),
	)!;
	const short = fs.readFileSync(path.join(root, 'overlay2', layer.cacheId!, 'link'), 'utf8').trim();
	const r = resolveRef(model, `l/${short}`, opts);
	assert.ok(r.ok && r.value.kind === 'layer' && r.value.layer.chainId === layer.chainId);
	// Unknown names still fail with the usual message.
	const bad = resolveRef(model, 'l/ZZZZZZZZZZZZZZZZZZZZZZZZZZ', opts);
	assert.ok(!bad.ok && bad.error.startsWith('no container, image or layer matches'));
});

test('overlay2.v2: tree, inspect and files take a RW or init layer name as their container (files: that layer)', async () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const model = loadModel(openSource(root)).model;
	const c = model.containers.find(x => x.mountId !== null && x.initId !== null)!;
	const short = fs.readFileSync(path.join(root, 'overlay2', c.initId!, 'link'), 'utf8').trim();
	const byId = await cli(root, 'tree', c.id);
	assert.is(byId.code, 0, byId.stderr);
	for (const ref of [c.mountId!, `${c.mountId}-init`, `l/${short}`]) {
		const tree = await cli(root, 'tree', ref);
		assert.is(tree.code, 0, tree.stderr);
		assert.is(tree.stdout, byId.stdout, `tree ${ref}`);
		const inspect = await cli(root, 'inspect', ref);
		assert.is(inspect.code, 0, inspect.stderr);
		assert.is((JSON.parse(inspect.stdout) as {kind: string; id: string}).id, c.id, `inspect ${ref}`);
	}
	// files: the RW layer by cache id and by short name list the same changes; the init layer by its short name as by its -init name.
	const rwShort = fs.readFileSync(path.join(root, 'overlay2', c.mountId!, 'link'), 'utf8').trim();
	const rw = await cli(root, 'files', c.mountId!);
	assert.is(rw.code, 0, rw.stderr);
	assert.is((await cli(root, 'files', `l/${rwShort}`)).stdout, rw.stdout);
	const init = await cli(root, 'files', `${c.mountId}-init`);
	assert.is(init.code, 0, init.stderr);
	assert.match(init.stdout, /\/etc\/hostname/);
	assert.is((await cli(root, 'files', short)).stdout, init.stdout);
	assert.is.not(init.stdout, rw.stdout);
});

test('a volume or network name keeps its meaning in inspect: layer names come after them', async () => {
	const r = new FakeRoot('overlay2');
	try {
		const layers = [{diffId: `sha256:${'a'.repeat(64)}`, cacheId: 'base'}];
		const image = r.addImage({layers, tags: ['demo:1']});
		const [chainId] = r.addLayers(layers);
		const mnt = `beef${'d'.repeat(60)}`;
		r.addContainer({id: 'c'.repeat(64), name: 'web', image, mountId: mnt}, chainId);
		r.write('volumes/beef/_data/x', 'x');
		const inspect = await cli(r.dir, 'inspect', 'beef');
		assert.is(inspect.code, 0, inspect.stderr);
		assert.is((JSON.parse(inspect.stdout) as {kind: string}).kind, 'volume', 'the volume, as before');
		const byPrefix = await cli(r.dir, 'inspect', 'beefd');
		assert.is(
			(JSON.parse(byPrefix.stdout) as {kind: string; id: string}).id,
			'c'.repeat(64),
			'a longer RW prefix names the container',
		);
		const tree = await cli(r.dir, 'tree', 'beef');
		assert.is(tree.code, 0, tree.stderr);
		assert.match(tree.stdout, /web/);
	} finally {
		r.remove();
	}
});

test.run();
