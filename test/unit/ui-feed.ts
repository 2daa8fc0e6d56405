// Reading for the interactive UI: the two-step read (phases.ts), the model as the load worker
// sends it (pack.ts), configs read on demand (container-details.ts), the feed with its worker
// and its fallbacks (feed.ts), and the tree while only the containers are in (tree.ts `loading`).
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadCheckedModel, loadModel, openRoot, openSource} from '../../src/load.ts';
import type {Model} from '../../src/model/types.ts';
import {allParts} from '../../src/read/host.ts';
import {makeContainerDetails, withDetails} from '../../src/ui/container-details.ts';
import {detailLines} from '../../src/ui/detail.ts';
import {type FeedState, type ModelFeed, startFeed} from '../../src/ui/feed.ts';
import {type NavAction, type NavState, initNav, reduce, retree, selected} from '../../src/ui/nav.ts';
import {joinPacked, packModel, splitPacked, unpackModel} from '../../src/ui/pack.ts';
import {firstParts, readInPhases} from '../../src/ui/phases.ts';
import {rowLine} from '../../src/ui/rows.ts';
import {statusLine} from '../../src/ui/status.ts';
import {lineText} from '../../src/ui/text.ts';
import {buildTree, flatten} from '../../src/ui/tree.ts';
import {FakeRoot, hex} from '../helpers/fake-root.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {samplePath} from '../../src/cli.ts';
import {syntheticModel} from '../helpers/ui-model.ts';

const lean = (m: Model): Model => ({
	...m,
	containers: m.containers.map(c => ({...c, config: null, hostConfig: null, mountPoints: null, stored: null})),
});
const cmd = (command: Extract<NavAction, {type: 'command'}>['command']): NavAction => ({type: 'command', command});
const run = (s: NavState, ...actions: NavAction[]) => actions.reduce((acc, a) => reduce(acc, a), s);

/** A small root made in code: two images, three containers, one of them with a broken hostconfig.json. */
function fakeRoot(): FakeRoot {
	const r = new FakeRoot('overlay2');
	const a = r.addImage({layers: [{diffId: `sha256:${hex('d1')}`, cacheId: hex('c1')}], tags: ['app:1']});
	const b = r.addImage({
		layers: [
			{diffId: `sha256:${hex('d1')}`, cacheId: hex('c1')},
			{diffId: `sha256:${hex('d2')}`, cacheId: hex('c2')},
		],
		tags: ['app:2'],
	});
	const top = (id: string) =>
		JSON.parse(fs.readFileSync(r.p(`image/overlay2/imagedb/content/sha256/${id.slice(7)}`), 'utf8')).rootfs.diff_ids
			.length;
	assert.ok(top(a) === 1 && top(b) === 2);
	const chainA = `sha256:${hex('d1')}`;
	r.addContainer({id: hex('x1'), name: 'one', image: a, mountId: hex('m1'), created: '2026-01-02T00:00:01Z'}, chainA);
	r.addContainer(
		{id: hex('x2'), name: 'two', image: b, mountId: hex('m2'), created: '2026-01-02T00:00:02Z'},
		undefined,
	);
	r.addContainer({id: hex('x3'), name: 'three', image: a, mountId: hex('m3'), created: '2026-01-02T00:00:03Z'}, chainA);
	r.write(`containers/${hex('x3')}/hostconfig.json`, '{not json');
	return r;
}

test("pack: the worker's model unpacks to the model, less the configs read on demand; chain entries and ids are sent once", () => {
	const m = syntheticModel({containers: 300, images: 6, layers: 4});
	const packed = packModel(m);
	assert.ok(packed.entries.length < (300 * 6) / 2, `${packed.entries.length} distinct chain entries`);
	assert.ok(packed.layers.every(l => l.containers.every(c => typeof c === 'number')));
	assert.not.ok('config' in packed.containers[0]!);
	const back = unpackModel(structuredClone(packed));
	assert.equal(back, lean(m));
	// Sent in pieces: lists of more than 100 items go ahead in pieces of 100, in order.
	const {pieces, rest} = splitPacked(packed, 100);
	assert.equal(
		pieces.filter(p => p.field === 'containers').map(p => p.items.length),
		[100, 100, 100],
	);
	assert.ok(pieces.every(p => p.items.length <= 100) && rest.containers.length === 0);
	assert.equal(unpackModel(joinPacked(structuredClone(pieces), structuredClone(rest))), lean(m));
	// Fields the packer does not know cross as they are.
	const extra = {...m, volumes: [{name: 'v'}]} as unknown as Model;
	assert.equal((unpackModel(packModel(extra)) as unknown as {volumes: unknown}).volumes, [{name: 'v'}]);
	// An id a layer lists that is no container's stays an id.
	const odd = {...m, layers: [{...m.layers[0]!, containers: ['not-a-container']}, ...m.layers.slice(1)]};
	assert.equal(unpackModel(packModel(odd)).layers[0]!.containers, ['not-a-container']);
});

test('phases: first the containers (no chains, no findings), then exactly what loadCheckedModel reads (the model and the fast checks findings); not a Docker root stops after the first step', () => {
	const r = fakeRoot();
	try {
		const firsts: Model[] = [];
		const done = readInPhases(openSource(r.dir), allParts, {first: m => firsts.push(m)});
		assert.is(firsts.length, 1);
		const first = firsts[0]!;
		assert.equal(
			first.containers.map(c => c.name),
			['one', 'two', 'three'],
		);
		assert.ok(first.containers.every(c => c.chain.length === 0));
		assert.equal(first.findings, []);
		assert.equal(first.images, []);
		assert.equal(
			first.containers.map(c => c.imageRef),
			['img', 'img', 'img'],
		);
		const expected = loadCheckedModel(openSource(r.dir), allParts).model;
		assert.equal(done.model, expected);
		assert.ok(
			expected.findings.some(f => f.path?.endsWith('hostconfig.json')),
			'a broken hostconfig.json is a finding (read in the second step)',
		);
		assert.equal(firstParts, {images: false, layers: false, mounts: false, driverDirs: false, hostConfig: false});
	} finally {
		r.remove();
	}
	const empty = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'layerlens-not-docker-'));
	try {
		let called = false;
		const done = readInPhases(openSource(empty), allParts, {first: () => (called = true)});
		assert.is(done.isDockerRoot, false);
		assert.is(called, false);
	} finally {
		fs.rmSync(empty, {recursive: true, force: true});
	}
});

test("details: a container's configs, read on demand, are what loadModel reads", () => {
	const root = realRoot('overlay2');
	const r = root === null ? fakeRoot() : null;
	const dir = root ?? r!.dir;
	try {
		const source = openSource(dir);
		const {model} = loadModel(source, allParts);
		const details = makeContainerDetails(source);
		const thin = lean(model);
		for (let i = 0; i < model.containers.length; i++) assert.equal(details(thin.containers[i]!), model.containers[i]!);
		const tree = buildTree(thin);
		const node = tree.tops.get('containers')![0]!;
		assert.equal(
			detailLines(tree, withDetails(node, details), () => null),
			detailLines(buildTree(model), buildTree(model).tops.get('containers')![0]!, () => null),
		);
	} finally {
		r?.remove();
	}
});

test('loading tree: containers only; a container expands into "loading…"; images and findings wait; f waits; search works on names', () => {
	const full = syntheticModel({containers: 40});
	const partial: Model = {
		...full,
		images: [],
		layers: [],
		findings: [],
		containers: full.containers.map(c => ({...c, chain: [], imageTags: [], mountId: null, initId: null})),
	};
	const tree = buildTree(partial, {loading: true});
	assert.ok(tree.loading);
	let s = initNav(tree, 10, 10);
	const c1 = `c:${full.containers[0]!.id}`;
	assert.is(selected(s)?.key, c1);
	s = run(s, cmd('expand'));
	const kids = flatten(tree, s.expanded, false).filter(r => r.node.parent === c1);
	assert.equal(
		kids.map(r => r.node.kind),
		['loading'],
	);
	assert.match(lineText(rowLine(tree, kids[0]!, 100)), /loading…/);
	const sections = s.rows.filter(r => r.node.kind === 'section').map(r => lineText(rowLine(tree, r, 100)).trim());
	assert.equal(sections, ['▾ containers (40)', 'images without containers (loading…)', 'findings (loading…)']);
	const details = detailLines(tree, selected(s)!, () => null)
		.map(lineText)
		.join('\n');
	assert.match(details, /image used +\w{12} {2}loading…/);
	assert.match(details, /chain \(top first\)\nloading…/);
	assert.not.match(details, /not in the image store/);
	assert.match(
		lineText(statusLine(partial, {sample: false, loading: true}, false)),
		/40 containers · reading images, layers and findings…/,
	);
	const f = run(s, cmd('filter'));
	assert.is(f.filter, false);
	assert.match(f.message ?? '', /still being read/);
	s = run(s, cmd('down'));
	assert.is(selected(s)?.kind, 'loading');
	// Search a name while loading, then the whole model comes in: the view stays, the search runs again.
	s = [...'c-003'].reduce((acc, ch) => reduce(acc, {type: 'searchInput', text: ch}), run(s, cmd('searchStart')));
	s = reduce(s, {type: 'searchSubmit'});
	assert.is(s.search.matches.length, 10);
	const at = selected(s)?.key;
	const next = retree(s, buildTree(full));
	assert.is(selected(next)?.key, at);
	assert.is(next.search.query, 'c-003');
	assert.is(next.search.matches.length, 10);
	assert.ok(next.expanded.has(c1));
	const chain = next.rows.filter(r => r.node.parent === c1).map(r => r.node.kind);
	assert.equal(chain, ['layer', 'layer', 'layer', 'layer', 'layer', 'image']);
	assert.ok(next.rows.some(r => r.node.key === 's:images') && next.rows.some(r => r.node.kind === 'finding'));
});

test('retree: a cursor on a "loading…" row moves to its container; the message stays', () => {
	const full = syntheticModel({containers: 5});
	const partial: Model = {
		...full,
		images: [],
		layers: [],
		findings: [],
		containers: full.containers.map(c => ({...c, chain: []})),
	};
	let s = initNav(buildTree(partial, {loading: true}), 10, 10);
	s = run(s, cmd('expand'), cmd('down'), cmd('filter'));
	assert.is(selected(s)?.kind, 'loading');
	const next = retree(s, buildTree(full));
	assert.is(selected(next)?.key, `c:${full.containers[0]!.id}`);
	assert.match(next.message ?? '', /still being read/);
	assert.is(reduce(s, {type: 'retree', tree: next.tree}).tree, next.tree);
});

/** Waits until the feed's state passes `test`. */
function until(feed: ModelFeed, test: (s: FeedState) => boolean, ms = 20_000): Promise<FeedState> {
	return new Promise((resolve, reject) => {
		if (test(feed.get())) return resolve(feed.get());
		const timer = setTimeout(() => reject(new Error(`feed stuck in ${feed.get().phase}`)), ms);
		const off = feed.subscribe(() => {
			if (!test(feed.get())) return;
			clearTimeout(timer);
			off();
			resolve(feed.get());
		});
	});
}

test('feed: a worker thread reads a directory: the containers first, then the whole model, without blocking this thread', async () => {
	const r = fakeRoot();
	try {
		const source = openSource(r.dir);
		const phases: string[] = [];
		const feed = startFeed({source, parts: allParts, load: () => assert.unreachable('no in-process read') as never});
		feed.subscribe(() => phases.push(feed.get().phase));
		assert.is(feed.mode(), 'worker');
		const partial = await until(feed, s => s.phase === 'partial' || s.phase === 'full');
		const full = await until(feed, s => s.phase === 'full');
		feed.close();
		assert.is(feed.mode(), 'worker');
		assert.ok(phases.includes('partial'), phases.join(' '));
		assert.ok(
			partial.phase === 'partial' && partial.loading && partial.model.containers.every(c => c.chain.length === 0),
		);
		assert.ok(full.phase === 'full' && !full.loading && full.details !== null);
		const expected = loadCheckedModel(openSource(r.dir), allParts).model;
		assert.equal(full.model, lean(expected));
		assert.equal(
			full.model.containers.map(c => full.details!(c)),
			expected.containers,
		);
	} finally {
		r.remove();
	}
});

test('feed: when the worker cannot start it reads in this thread; an archive is read in this thread when the UI says start', async () => {
	const r = fakeRoot();
	try {
		const source = openSource(r.dir);
		let reads = 0;
		const load = (s: typeof source, parts: typeof allParts) => {
			reads++;
			return loadModel(s, parts);
		};
		const feed = startFeed({source, parts: allParts, load, workerUrl: new URL('./no-such-worker.ts', import.meta.url)});
		const full = await until(feed, s => s.phase === 'full' || s.phase === 'failed');
		assert.is(full.phase, 'full');
		assert.is(feed.mode(), 'in-process');
		assert.is(reads, 1);
		assert.ok(full.phase === 'full' && full.details === null);
		assert.equal(full.model, loadModel(openSource(r.dir), allParts).model);
	} finally {
		r.remove();
	}
	const opened = await openRoot(samplePath);
	assert.ok(opened.ok);
	if (!opened.ok) return;
	const progress: number[] = [];
	const feed = startFeed({
		source: opened.source,
		parts: allParts,
		load: loadModel,
		onBlockingProgress: p => progress.push(p.files),
	});
	assert.is(feed.mode(), 'in-process');
	assert.is(feed.get().phase, 'reading', 'nothing is read before start()');
	feed.start();
	const s = feed.get();
	assert.is(s.phase, 'full');
	assert.ok(s.phase === 'full' && s.model.containers.length > 0 && s.details === null && s.source === opened.source);
});

test('feed: a directory that is not a Docker root says so; a reader that throws fails the feed', async () => {
	const empty = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'layerlens-not-docker-'));
	try {
		const feed = startFeed({source: openSource(empty), parts: allParts, load: loadModel});
		assert.is((await until(feed, s => s.phase !== 'reading')).phase, 'not-a-docker-root');
		const broken = startFeed({
			source: openSource(empty),
			parts: allParts,
			load: () => {
				throw new Error('boom');
			},
			worker: false,
		});
		broken.start();
		const s = broken.get();
		assert.ok(s.phase === 'failed' && s.error.message === 'boom');
	} finally {
		fs.rmSync(empty, {recursive: true, force: true});
	}
});

test.run();
