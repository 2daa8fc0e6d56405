import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {App} from '../../components/App.tsx';
import {run} from '../../src/cli.ts';
import {diskLedgerOwners} from '../../src/disk/root-ledger.ts';
import type {DfReport} from '../../src/disk/report.ts';
import {loadModel, openSource} from '../../src/load.ts';
import type {Model} from '../../src/model/types.ts';
import {type DiskLedger, bar, computingDisk, diskRows, readyDisk} from '../../src/ui/disk-view.ts';
import {fileRowLine, openFiles} from '../../src/ui/files-view.ts';
import {makeFolderSizer} from '../../src/ui/folder-sizes.ts';
import {ledgerRunner} from '../../src/ui/ledger-feed.ts';
import {initNav, reduce, reduceKey, selected} from '../../src/ui/nav.ts';
import {rowLine} from '../../src/ui/rows.ts';
import {lineText} from '../../src/ui/text.ts';
import {buildTree, flatten} from '../../src/ui/tree.ts';
import {humanSize} from '../../src/units.ts';
import {allParts} from '../../src/read/host.ts';
import {sampleRoot} from '../helpers/check-roots.ts';
import {filesRoot} from '../helpers/files-root.ts';
import {renderApp} from '../helpers/ink.ts';
import {syntheticModel} from '../helpers/ui-model.ts';

async function dfJson(root: string): Promise<DfReport> {
	let out = '';
	const code = await run(['df', '--json', '--root', root], {
		stdout: {write: (s: string) => (out += s)},
		stderr: {write: () => {}},
		env: {},
	} as never);
	assert.is(code, 0);
	return JSON.parse(out) as DfReport;
}

let sample: {model: Model; ledger: DiskLedger} | undefined;
function sampleLedger(): {model: Model; ledger: DiskLedger} {
	if (sample !== undefined) return sample;
	const loaded = loadModel(openSource(sampleRoot()));
	sample = {model: loaded.model, ledger: diskLedgerOwners(loaded)};
	return sample;
}

test("the disk view's rows on the sample: biggest first, every byte once, the figures df prints", async () => {
	const {model, ledger} = sampleLedger();
	const df = await dfJson(sampleRoot());
	const rows = diskRows(ledger, buildTree(model), model);
	for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.bytes >= rows[i]!.bytes, `row ${i} is not smaller`);
	let sum = 0;
	for (const r of rows) sum += r.bytes;
	assert.is(sum, df.total.bytes, 'the rows add up to df total');
	const byKind = (kind: string) => rows.filter(r => r.kind === kind).reduce((a, r) => a + r.bytes, 0);
	const cat = (kind: string) => df.categories.find(c => c.kind === kind)!.bytes;
	assert.is(byKind('image-layer'), cat('image-layer'));
	assert.is(byKind('daemon'), cat('daemon'));
	assert.is(byKind('build-cache'), cat('build-cache'));
	assert.ok(df.containers.length > 0);
	for (const c of df.containers) {
		const row = rows.find(r => r.target === `c:${c.id}`);
		assert.ok(row !== undefined, `a row for ${c.name}`);
		assert.is(row.bytes, c.diskBytes, `${c.name}: df's diskBytes`);
	}
	assert.ok(
		rows.filter(r => r.kind === 'image-layer').every(r => r.target !== null),
		'every layer row goes to the tree',
	);
});

test('sizes on rows: image and layer sizes from the model; SIZE RW once the ledger is known', () => {
	const {model, ledger} = sampleLedger();
	const tree = buildTree(model);
	const all = new Set(tree.sections.map(x => x.key));
	for (const c of model.containers) all.add(`c:${c.id}`);
	const rows = flatten(tree, all, false);
	const sizeRw = new Map(ledger.report.containers.map(c => [c.id, c.sizeRw]));
	let checked = 0;
	for (const r of rows) {
		const n = r.node;
		const before = lineText(rowLine(tree, r, 300));
		const after = lineText(rowLine(tree, r, 300, false, false, {sizeRw}));
		if (n.kind === 'container') {
			assert.not.ok(before.includes(humanSize(sizeRw.get(n.container.id))), 'unknown before the walk');
			assert.ok(after.includes(`  ${humanSize(sizeRw.get(n.container.id))}`), after);
			checked++;
		} else if (n.kind === 'layer' && n.role === 'rw' && n.container !== null) {
			assert.ok(after.includes(`  ${humanSize(sizeRw.get(n.container.id))}`), after);
		} else if (n.kind === 'layer' && n.role === 'image' && n.layer !== null) {
			assert.ok(before.includes(humanSize(n.layer.size)), before);
		} else if (n.kind === 'image' && n.image !== null) {
			assert.ok(before.includes(`  ${humanSize(n.image.size)}`), before);
			checked++;
		}
	}
	assert.ok(checked >= model.containers.length + 1, `${checked} rows checked`);
});

test('bars: proportional, plain characters, never empty for a non-empty owner', () => {
	assert.is(bar(100, 100, 10), '██████████');
	assert.is(bar(50, 100, 10), '█████░░░░░');
	assert.is(bar(1, 1000000, 10), '█░░░░░░░░░');
	assert.is(bar(0, 100, 4), '░░░░');
	assert.is(bar(0, 0, 4), '░░░░');
});

test('reducer: d opens the view computing; keys work meanwhile; the ledger comes in; Enter goes to the object', () => {
	const {model, ledger} = sampleLedger();
	const tree = buildTree(model);
	let opened = 0;
	const ctx = {disk: () => (opened++, computingDisk)};
	const s0 = initNav(tree, 10, 10);
	const s1 = reduceKey(s0, 'd', 'd', ctx);
	assert.is(opened, 1);
	assert.ok(s1.disk?.rows === null, 'computing');
	const s2 = reduceKey(s1, 'j', 'j', ctx);
	assert.is(s2.disk?.cursor, 0, 'nothing to move over yet');
	const back = reduceKey(s2, 'esc', '', ctx);
	assert.is(back.disk, null, 'Esc goes back while computing');
	const moved = reduceKey(back, 'j', 'j', ctx);
	assert.is(moved.cursor, back.cursor + 1, 'the tree still moves');
	const ready = readyDisk(ledger, tree, model);
	assert.is(reduce(moved, {type: 'diskReady', disk: ready}).disk ?? null, null, 'a closed view stays closed');
	const s3 = reduce(reduceKey(moved, 'd', 'd', ctx), {type: 'diskReady', disk: ready});
	assert.is(s3.disk?.rows?.length, ready.rows?.length);
	const container = ready.rows!.findIndex(r => r.kind === 'container');
	let s4 = s3;
	for (let i = 0; i < container; i++) s4 = reduceKey(s4, 'j', 'j', ctx);
	assert.is(s4.disk?.cursor, container);
	const s5 = reduceKey(s4, 'enter', '\r', ctx);
	assert.is(s5.disk, null);
	assert.is(selected(s5)?.key, ready.rows![container]!.target);
	const layer = ready.rows!.findIndex(r => r.kind === 'image-layer');
	let s6 = reduce(reduceKey(s5, 'd', 'd', ctx), {type: 'diskReady', disk: ready});
	for (let i = 0; i < layer; i++) s6 = reduceKey(s6, 'j', 'j', ctx);
	const s7 = reduceKey(s6, 'enter', '\r', ctx);
	assert.is(selected(s7)?.kind, 'layer');
	assert.is(selected(s7)?.key, ready.rows![layer]!.target);
	const daemon = ready.rows!.findIndex(r => r.kind === 'daemon');
	let s8 = reduce(reduceKey(s7, 'd', 'd', ctx), {type: 'diskReady', disk: ready});
	for (let i = 0; i < daemon; i++) s8 = reduceKey(s8, 'j', 'j', ctx);
	const s9 = reduceKey(s8, 'enter', '\r', ctx);
	assert.ok(s9.disk !== null && s9.message !== null, 'an owner outside the tree: a note, the view stays');
	assert.is(reduceKey(s9, 'q', 'q', ctx).disk, null, 'q leaves the view');
	assert.not.ok(reduceKey(s9, 'q', 'q', ctx).quit, 'q in the view does not quit');
});

test('explorer: d while the ledger is computing, keys still work, then the rows, Enter to the container', async () => {
	const {model, ledger} = sampleLedger();
	let release: (l: DiskLedger) => void = () => {};
	let calls = 0;
	const gate = new Promise<DiskLedger>(resolve => {
		release = resolve;
	});
	const app = await renderApp(
		<App
			model={{...model, root: '/var/lib/docker'}}
			source={null}
			width={100}
			height={30}
			ledger={() => (calls++, gate)}
		/>,
	);
	try {
		await app.press('d');
		assert.match(app.frame(), /computing the ledger/);
		await app.press('escape', 'j', 'j');
		assert.match(app.frame(), /▶ tree/, 'back to the tree while computing');
		await app.press('d');
		assert.is(calls, 1, 'computed once');
		release(ledger);
		await app.press('g');
		const f = app.frame();
		assert.match(f, /disk: 2\.36MB by owner, biggest first/);
		const rows = f.split('\n').filter(l => /[█░]{12}/.test(l));
		assert.ok(rows.length > 5, f);
		assert.match(rows[0]!, /^.?\s*1\.98MB +████████████ image-layer +7c2242e5f10b/);
		const name = model.containers[0]!.name!;
		const index = rows.findIndex(l => l.includes(`${name} (RW`));
		assert.ok(index > 0, `${name} listed`);
		for (let i = 0; i < index; i++) await app.press('j');
		await app.press('enter');
		assert.match(app.frame(), new RegExp(`details: container ${name}`));
		const c = ledger.report.containers.find(x => x.name === name)!;
		assert.ok(c.sizeRw !== null, `${name} has a SIZE RW`);
		const row = app
			.frame()
			.split('\n')
			.find(l => l.includes('›') && l.includes(` ${name} `));
		assert.ok(row !== undefined, app.frame());
		assert.match(
			row,
			new RegExp(`  ${humanSize(c.sizeRw).replace('.', '\\.')} +\\S`),
			'SIZE RW on the row once measured',
		);
	} finally {
		app.unmount();
	}
});

test('NO_COLOR: the disk view has no colour codes (bars read without colour); with colour it has some', async () => {
	const {model, ledger} = sampleLedger();
	const colourCode = /\u001B\[(3[0-7]|9[0-7]|38;)/;
	for (const color of [true, false]) {
		const app = await renderApp(
			<App model={model} source={null} width={100} height={30} color={color} ledger={() => Promise.resolve(ledger)} />,
		);
		try {
			await app.press('d');
			await app.press('j');
			const raw = app.lastFrame() ?? '';
			assert.match(raw, /█/);
			if (color) assert.match(raw, colourCode, 'with colour, there are colour codes (the check can fail)');
			else assert.not.match(raw, colourCode);
		} finally {
			app.unmount();
		}
	}
});

test('3000 containers: the disk view opens and moves at once while the ledger never comes', async () => {
	const m = syntheticModel({containers: 3000, images: 60, layers: 6});
	const app = await renderApp(
		<App model={m} source={null} width={100} height={30} ledger={() => new Promise<DiskLedger>(() => {})} />,
	);
	try {
		const t = performance.now();
		await app.press('d', 'escape', 'G', 'd');
		assert.match(app.frame(), /computing the ledger/);
		await app.press('escape');
		assert.match(app.frame(), /2995-3007 of 3007/);
		assert.ok(performance.now() - t < 3000, 'keys answered');
	} finally {
		app.unmount();
	}
});

test('the ledger runner: in a worker for a directory root, the same figures as in this thread', async () => {
	const {ledger} = sampleLedger();
	const runner = ledgerRunner(openSource(sampleRoot()), allParts);
	try {
		const p = runner.run();
		assert.is(runner.run(), p, 'started once');
		const got = await p;
		assert.is(got.report.total.bytes, ledger.report.total.bytes);
		const sum = (l: DiskLedger) => l.owners.reduce((a, o) => a + o.bytes, 0);
		assert.is(sum(got), sum(ledger));
		assert.is(got.owners.length, ledger.owners.length);
	} finally {
		runner.close();
	}
});

test('folder sizes in the files view: walked in bounded steps; merged view and a layer view', () => {
	const r = filesRoot();
	try {
		const {model, source} = loadModel(openSource(r.dir));
		const tree = buildTree(model);
		const node = tree.node(`c:${'c'.repeat(64)}`)!;
		const files = openFiles(source, model, node);
		assert.ok(typeof files !== 'string', String(files));
		const sizer = makeFolderSizer(source);
		const row = (name: string) => files.rows.find(x => x.name === name)!;
		assert.is(sizer.get(files, row('etc')), undefined, 'nothing walked before it is asked');
		sizer.request(files, 0, files.rows.length);
		assert.ok(sizer.step(1), 'one entry at a time: more to do');
		assert.not.ok(sizer.get(files, row('etc'))?.done && sizer.get(files, row('bin'))?.done, 'not all done yet');
		while (sizer.step(1));
		const motd = Buffer.byteLength('hello\tworld\n\u001b[31mred\u001b[0m\n');
		assert.equal(sizer.get(files, row('etc')), {bytes: 6 + 4 + motd, files: 3, unknown: 0, done: true});
		const bin = sizer.get(files, row('bin'))!;
		assert.ok(bin.done);
		// As root the container deletes bin/cat (a whiteout): only bin/sh is left.
		assert.is(bin.bytes, process.getuid?.() === 0 ? 70 * 1024 : 70 * 1024 + 7);
		const line = lineText(fileRowLine(row('bin'), 80, false, bin));
		assert.match(line, /71\.7kB {2}bin\//);
		assert.match(
			lineText(fileRowLine(row('bin'), 80, false, {bytes: 5, done: false}, 1)),
			/\/ 5B {2}bin\//,
			'a spinner while walking',
		);
		assert.match(lineText(fileRowLine(row('bin'), 80, false)), / - {2}bin\//, 'unknown: -');
		const rw = tree.node(`c:${'c'.repeat(64)}/0`)!;
		const own = openFiles(source, model, rw);
		assert.ok(typeof own !== 'string');
		sizer.request(own, 0, own.rows.length);
		while (sizer.step(100));
		const etc = own.rows.find(x => x.name === 'etc')!;
		assert.is(sizer.get(own, etc)?.bytes, 10, "a layer's view: only its own files (hostname, new.conf)");
	} finally {
		r.remove();
	}
});

test('explorer: folder sizes appear in the files view without a key', async () => {
	const r = filesRoot();
	try {
		const {model, source} = loadModel(openSource(r.dir));
		const app = await renderApp(<App model={model} source={source} width={100} height={30} />);
		try {
			await app.press('o');
			assert.match(app.frame(), /71\.7kB {2}bin\//);
			assert.match(app.frame(), /\d+B {2}etc\//);
		} finally {
			app.unmount();
		}
	} finally {
		r.remove();
	}
});

test.run();
