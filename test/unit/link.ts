import fs from 'node:fs';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {atLeast, isSeverity, worse} from '../../src/finding.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {chainIds, layersTopDown, shortId, statusText} from '../../src/model/ids.ts';
import {containerById, imageById, indexesOf, layerByChainId} from '../../src/model/indexes.ts';
import {resolveRef} from '../../src/model/resolve.ts';
import {FakeRoot, chain, hex} from '../helpers/fake-root.ts';

const load = (dir: string) => loadModel(openSource(dir)).model;
const codes = (m: ReturnType<typeof load>) => m.findings.map(f => f.code).sort();

test('chain ids follow the image spec (worked example from the layout reference)', () => {
	const ids = chainIds([
		'sha256:b820370b7a7ea4129de3d2c2d4fd9ecdbd34b8cef6cbc883e7701825df78bdbe',
		'sha256:65e7eb2ecd77c5fd4998fb2d52845292446ee6ad3da767220243d6682d9efde5',
	]);
	assert.is(ids[0], 'sha256:b820370b7a7ea4129de3d2c2d4fd9ecdbd34b8cef6cbc883e7701825df78bdbe');
	assert.is(ids[1], 'sha256:3963011b2141db12b981ce81df2380317e89ae48c8d33bc7dddc31b67d13f158');
});

function basic(driver: 'overlay2' | 'aufs' | 'vfs' = 'overlay2') {
	const root = new FakeRoot(driver);
	const layers = [0, 1, 2].map(i => ({diffId: `sha256:${hex(`diff${i}`)}`, cacheId: hex(`cache${i}`)}));
	const base = root.addImage({layers: layers.slice(0, 2), tags: ['base:1'], created: '2026-01-01T00:00:00Z'});
	const app = root.addImage({
		layers,
		tags: ['app:1', 'app:latest'],
		parent: base,
		created: '2026-01-02T00:00:00Z',
		history: [{created_by: 'a'}, {created_by: 'ENV X=1', empty_layer: true}, {created_by: 'b'}, {created_by: 'c'}],
	});
	const ids = chain(layers.map(l => l.diffId));
	root.addContainer(
		{
			id: hex('c1'),
			name: 'web',
			image: app,
			imageRef: 'app:1',
			mountId: hex('m1'),
			state: {StartedAt: '2026-01-03T00:00:00Z', FinishedAt: '2026-01-03T00:01:00Z', ExitCode: 3},
		},
		ids[2],
	);
	root.addContainer(
		{
			id: hex('c2'),
			name: 'db',
			image: base,
			mountId: hex('m2'),
			state: {Running: true, StartedAt: '2026-01-03T00:00:00Z'},
		},
		ids[1],
	);
	if (driver === 'overlay2') {
		// As on a real host: a layer that records bytes has files (an emptied diff/ is layer.content-empty).
		for (const l of layers) root.write(`overlay2/${l.cacheId}/diff/f`, 'x'.repeat(100));
	}
	return {root, base, app, ids, layers};
}

for (const driver of ['overlay2', 'aufs', 'vfs'] as const) {
	test(`${driver}: a container links to its RW, init and image layers, top first, then its image`, () => {
		const {root, app, ids, layers} = basic(driver);
		try {
			const m = load(root.dir);
			assert.equal(m.findings, []);
			assert.equal(m.drivers, [driver]);
			const web = m.containers.find(c => c.name === 'web')!;
			assert.is(web.status, 'exited');
			assert.is(web.exitCode, 3);
			assert.is(web.imageId, app);
			assert.is(web.imageRef, 'app:1');
			assert.equal(web.imageTags, ['app:1', 'app:latest']);
			assert.equal(
				web.chain.map(e => e.role),
				['rw', 'init', 'image', 'image', 'image'],
			);
			assert.equal(
				web.chain.map(e => e.cacheId),
				[hex('m1'), `${hex('m1')}-init`, layers[2]!.cacheId, layers[1]!.cacheId, layers[0]!.cacheId],
			);
			assert.equal(
				web.chain.slice(2).map(e => e.chainId),
				[...ids].reverse(),
			);
			const expectPath = (id: string) =>
				driver === 'aufs' ? `aufs/diff/${id}` : driver === 'vfs' ? `vfs/dir/${id}` : `overlay2/${id}/diff`;
			assert.equal(
				web.chain.map(e => e.path),
				web.chain.map(e => expectPath(e.cacheId!)),
			);
			assert.ok(web.chain.every(e => e.pathExists));
			assert.is(m.containers.find(c => c.name === 'db')!.status, 'running');
		} finally {
			root.remove();
		}
	});
}

test('images: tags, parent, children, history matched to layers, shared layers once', () => {
	const {root, base, app, ids} = basic();
	try {
		const m = load(root.dir);
		const b = m.images.find(i => i.id === base)!;
		const a = m.images.find(i => i.id === app)!;
		assert.equal(a.tags, ['app:1', 'app:latest']);
		assert.is(a.parent, base);
		assert.equal(b.children, [app]);
		assert.is(a.intermediate, false);
		assert.is(a.dangling, false);
		assert.equal(
			a.history.map(h => h.chainId),
			[ids[0], null, ids[1], ids[2]],
		);
		assert.is(m.layers.length, 3);
		const shared = m.layers.find(l => l.chainId === ids[0])!;
		assert.equal(shared.images, [base, app].sort());
		assert.is(shared.containers.length, 2);
		assert.is(a.size, 300);
	} finally {
		root.remove();
	}
});

test('intermediate (untagged parent) and dangling (untagged, no children) images', () => {
	const root = new FakeRoot();
	try {
		const l = (s: string) => ({diffId: `sha256:${hex(s)}`, cacheId: hex(`c${s}`)});
		const mid = root.addImage({layers: [l('a')]});
		root.addImage({layers: [l('a'), l('b')], tags: ['top:1'], parent: mid});
		const lone = root.addImage({layers: [l('z')]});
		const m = load(root.dir);
		assert.equal(
			m.images.map(i => [i.id, i.intermediate, i.dangling]).sort(),
			[
				[mid, true, false],
				[lone, false, true],
				[m.images.find(i => i.tags.includes('top:1'))!.id, false, false],
			].sort(),
		);
	} finally {
		root.remove();
	}
});

test("the seed article's docker create (aufs): mount-id, init-id, parent and the layers file", () => {
	// Ids from the seed article: container 967438113fba…, mount 305226f2…, parent chain 9840d207…
	// with diff d8b353eb… and cache 7938f2b3…. The article gives only cache ids for the four lower layers,
	// so their chain and diff ids here are made up; it never shows the image config, so the image is absent.
	const root = new FakeRoot('aufs');
	try {
		const container = '967438113fba0b7a3005bcb6efae6a77055d6be53945f30389888802ea8b0368';
		const mount = '305226f2e0755956ada28b3baf39b18fa328f1a59fd90e0b759a239773db2281';
		const caches = [
			'7938f2b32c53a9e0d3974f9579dd9dbb450202e1e11fe514e31556d4ea808c4e',
			'4c10796e21c796a6f3d83eeb3613c566ca9e0fd0a596f4eddf5234b87955b3c8',
			'fd0ba28a44491fd7559c7ffe0597fb1f95b63207a38a3e2680231fb2f6fe92bd',
			'b656bf5f0688069cd90ab230c029fdfeb852afcfd0d1733d087474c86a117da3',
			'1e83d2ea184e08eed978127311cc96498e319426abe2fb5004d4b1454598bd76',
		];
		const chains = [
			'sha256:9840d207a275f956f3e634148044e63dc78df511fd72e22d8cb3dad57dc49bf6',
			...[1, 2, 3, 4].map(i => `sha256:${hex(`seed-chain-${i}`)}`),
		];
		caches.forEach((cache, i) => {
			const dir = `image/aufs/layerdb/sha256/${chains[i]!.slice(7)}`;
			root.write(
				`${dir}/diff`,
				i === 0
					? 'sha256:d8b353eb3025c49e029567b2a01e517f7f7d32537ee47e64a7eac19fa68a33f3'
					: `sha256:${hex(`seed-diff-${i}`)}`,
			);
			root.write(`${dir}/cache-id`, cache);
			if (i < 4) root.write(`${dir}/parent`, chains[i + 1]!);
			fs.mkdirSync(root.p(`aufs/diff/${cache}`), {recursive: true});
		});
		root.addContainer(
			{id: container, name: 'docker_test', image: `sha256:${hex('ubuntu')}`, imageRef: 'ubuntu', mountId: mount},
			chains[0],
		);
		root.write(`aufs/layers/${mount}`, `${[`${mount}-init`, ...caches].join('\n')}\n`);
		const m = load(root.dir);
		const c = m.containers[0]!;
		assert.is(c.name, 'docker_test');
		assert.is(c.status, 'created');
		assert.is(c.mountId, mount);
		assert.is(c.initId, `${mount}-init`);
		assert.is(c.parentChainId, chains[0]);
		// The chain below the RW layer is what aufs/layers/<mount-id> records, nearest first.
		const recorded = fs
			.readFileSync(root.p(`aufs/layers/${mount}`), 'utf8')
			.trim()
			.split('\n');
		assert.equal(
			c.chain.slice(1).map(e => e.cacheId),
			recorded,
		);
		assert.is(c.chain[2]!.diffId, 'sha256:d8b353eb3025c49e029567b2a01e517f7f7d32537ee47e64a7eac19fa68a33f3');
		assert.equal(codes(m), ['container.image-removed']);
	} finally {
		root.remove();
	}
});

test('broken links become findings on the object they broke, and the rest is still shown', () => {
	const {root, ids, app} = basic();
	try {
		const web = hex('c1');
		const db = hex('c2');
		// web: its RW dir is gone and its mount parent points elsewhere; db: its config is garbage.
		fs.rmSync(root.p(`overlay2/${hex('m1')}`), {recursive: true});
		fs.writeFileSync(root.p(`image/overlay2/layerdb/mounts/${web}/parent`), ids[0]!);
		fs.writeFileSync(root.p(`containers/${db}/config.v2.json`), '{"ID": "trunc');
		// A layer's cache-id is missing, an unknown tag target is in repositories.json.
		fs.rmSync(root.p(`image/overlay2/layerdb/sha256/${ids[1]!.slice(7)}/cache-id`));
		const repos = JSON.parse(fs.readFileSync(root.p('image/overlay2/repositories.json'), 'utf8'));
		repos.Repositories.gone = {'gone:1': `sha256:${hex('nothing')}`};
		fs.writeFileSync(root.p('image/overlay2/repositories.json'), JSON.stringify(repos));
		const m = load(root.dir);
		const by = (subject: string) =>
			m.findings
				.filter(f => f.subject === subject)
				.map(f => f.code)
				.sort();
		assert.equal(by(`container:${web}`), ['container.layer-dir-missing', 'mount.parent-mismatch']);
		assert.equal(by(`container:${db}`), ['json.invalid']);
		assert.equal(by(`layer:${ids[1]}`), ['file.missing']);
		assert.equal(by('store:overlay2'), ['ref.image-missing']);
		// Everything is still there.
		assert.is(m.containers.length, 2);
		assert.is(m.images.length, 2);
		const w = m.containers.find(c => c.id === web)!;
		assert.is(w.imageId, app);
		assert.is(w.chain[0]!.pathExists, false);
		const d = m.containers.find(c => c.id === db)!;
		assert.is(d.name, null);
		// Without a config the driver is unknown, but the mount still links it to its layers.
		assert.is(d.driver, 'overlay2');
		assert.is(d.chain.length, 4);
	} finally {
		root.remove();
	}
});

test('a layer parent loop is cut and reported, not followed forever', () => {
	const {root, ids} = basic();
	try {
		fs.writeFileSync(root.p(`image/overlay2/layerdb/sha256/${ids[0]!.slice(7)}/parent`), ids[2]!);
		const m = load(root.dir);
		assert.ok(m.findings.some(f => f.code === 'layer.parent-loop'));
		assert.ok(m.findings.some(f => f.code === 'layer.parent-mismatch'));
	} finally {
		root.remove();
	}
});

test('a symlink where a container directory should be is reported, never followed', () => {
	const {root} = basic();
	try {
		const outside = fs.mkdtempSync('/tmp/layerlens-outside-');
		fs.writeFileSync(`${outside}/config.v2.json`, '{}');
		fs.symlinkSync(outside, root.p(`containers/${hex('evil')}`));
		const m = load(root.dir);
		assert.ok(m.findings.some(f => f.code === 'file.symlink' && f.subject === `container:${hex('evil')}`));
		assert.is(m.containers.length, 2);
		fs.rmSync(outside, {recursive: true});
	} finally {
		root.remove();
	}
});

test('the model carries its indexes: built in link, kept by a copy that keeps the arrays, answering as a scan would', () => {
	const {root, app, ids} = basic();
	try {
		const m = load(root.dir);
		const ix = indexesOf(m);
		const copy: typeof m = {...m, findings: []};
		assert.ok(indexesOf(copy) === ix, 'a copy with the same arrays has the same indexes');
		const other: typeof m = {...m, images: [...m.images]};
		assert.ok(indexesOf(other) !== ix, 'new arrays, new indexes');
		for (const c of m.containers) {
			assert.ok(containerById(m, c.id) === c);
			assert.ok(imageById(m, c.imageId, c.driver) === m.images.find(i => i.id === c.imageId && i.driver === c.driver));
			assert.equal(ix.containersByName.get(c.name!), [c]);
		}
		for (const l of m.layers) assert.ok(layerByChainId(m, l.chainId, l.driver) === l);
		assert.is(layerByChainId(m, ids[0]!, 'aufs'), undefined, 'another driver store');
		assert.is(imageById(m, null, null), undefined);
		assert.equal(
			ix.imagesByTag.get('app:latest')!.map(i => i.id),
			[app],
		);
		// resolveRef through the indexes: id, /name, tag, repo (= :latest), chain id, cache id, prefix.
		const web = m.containers.find(c => c.name === 'web')!;
		const kinds = (ref: string) => {
			const r = resolveRef(m, ref);
			return r.ok ? r.value.kind : r.error;
		};
		for (const ref of [web.id, 'web', '/web', web.id.slice(0, 8)]) assert.is(kinds(ref), 'container', ref);
		for (const ref of [app, app.replace('sha256:', ''), 'app:1', 'app']) assert.is(kinds(ref), 'image', ref);
		const top = m.layers.find(l => l.chainId === ids[2])!;
		for (const ref of [top.chainId, top.cacheId!]) assert.is(kinds(ref), 'layer', ref);
		assert.match(kinds('nothing'), /no container, image or layer matches/);
	} finally {
		root.remove();
	}
});

test('one short id, one status text, one top-down order', () => {
	assert.is(shortId('sha256:0123456789abcdef0123'), '0123456789ab');
	assert.is(shortId('0123456789abcdef'), '0123456789ab');
	assert.is(shortId(null), '-');
	assert.is(statusText({status: 'exited', exitCode: 0}), 'exited (0)');
	assert.is(statusText({status: 'exited', exitCode: null}), 'exited (?)');
	assert.is(statusText({status: 'running', exitCode: null}), 'running');
	assert.is(statusText({status: null, exitCode: null}), 'unknown');
	const i = {chainIds: ['a', 'b', 'c']};
	assert.equal(layersTopDown(i), ['c', 'b', 'a']);
	assert.equal(i.chainIds, ['a', 'b', 'c'], 'a new array: the image keeps its order');
	// One severity order: error, warning, info.
	assert.is(worse('info', 'error'), 'error');
	assert.is(worse('warning', 'info'), 'warning');
	assert.ok(atLeast('error', 'warning') && atLeast('warning', 'warning') && !atLeast('info', 'warning'));
	for (const s of ['error', 'warning', 'info']) assert.ok(isSeverity(s), s);
	for (const s of ['__proto__', 'toString', 'constructor', 'Error', '']) assert.not.ok(isSeverity(s), s);
});

test.run();
