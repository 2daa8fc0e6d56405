// The UI while the root is still being read: the opening frame drawn before Ink is loaded
// (plain-frame.ts) is the one Ink then draws; the App shows the containers first and fills in
// as the whole model comes; Root follows a feed.
import {stripVTControlCharacters} from 'node:util';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {App} from '../../components/App.tsx';
import {Root} from '../../components/Root.tsx';
import type {Model} from '../../src/model/types.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {makeContainerDetails} from '../../src/ui/container-details.ts';
import type {FeedState, ModelFeed} from '../../src/ui/feed.ts';
import {makeFileLister} from '../../src/ui/layer-files.ts';
import {unpackModel, packModel} from '../../src/ui/pack.ts';
import {plainFrame, plainFrameText} from '../../src/ui/plain-frame.ts';
import {renderApp, tick} from '../helpers/ink.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {syntheticModel} from '../helpers/ui-model.ts';

const partialOf = (m: Model): Model => ({
	...m,
	images: [],
	layers: [],
	findings: [],
	containers: m.containers.map(c => ({
		...c,
		chain: [],
		imageTags: [],
		mountId: null,
		initId: null,
		parentChainId: null,
	})),
});

test('the opening frame drawn before Ink is the frame Ink draws: stacked and side by side, loading and whole', async () => {
	const sizes: Array<[number, number]> = [
		[80, 24],
		[100, 30],
		[160, 40],
		[40, 12],
	];
	const full = syntheticModel({containers: 40});
	const empty = syntheticModel({containers: 0, findings: false});
	for (const [model, loading] of [
		[full, false],
		[partialOf(full), true],
		[empty, false],
		[partialOf(empty), true],
	] as const) {
		for (const [columns, rows] of sizes) {
			const app = await renderApp(<App model={model} loading={loading} source={null} width={columns} height={rows} />);
			try {
				const plain = plainFrameText({
					model,
					loading,
					details: null,
					files: () => null,
					sample: false,
					columns,
					rows,
				}).join('\n');
				assert.fixture(plain, app.frame(), `${columns}x${rows}${loading ? ' loading' : ''}`);
				const drawn = plainFrame({model, loading, details: null, files: () => null, sample: false, columns, rows});
				const lines = stripVTControlCharacters(drawn).split('\r\n');
				assert.is(lines.length, rows, 'one line per row but the last, then the rest cleared');
				assert.ok(drawn.startsWith('\u001B[H') && drawn.endsWith('\u001B[J\u001B[H'));
			} finally {
				app.unmount();
			}
		}
	}
});

test('the opening frame on a real tree, with configs read on demand, is the frame Ink draws', async () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const source = openSource(root);
	const model = unpackModel(packModel(loadModel(source).model));
	const details = makeContainerDetails(source);
	const app = await renderApp(<App model={model} source={source} details={details} width={100} height={30} />);
	try {
		const plain = plainFrameText({
			model,
			loading: false,
			details,
			files: makeFileLister(source),
			sample: false,
			columns: 100,
			rows: 30,
		}).join('\n');
		assert.fixture(plain, app.frame());
		await app.press('tab', 'pageDown', 'pageDown');
		assert.match(app.frame(), /env +image +PATH=/, 'the config, read on demand, is shown');
		assert.match(app.frame(), /host: daemon +LogConfig/, 'and the host config');
	} finally {
		app.unmount();
	}
});

test('App: containers first ("loading…" when expanded), then the whole model fills in under the same cursor', async () => {
	const full = syntheticModel({containers: 5});
	const partial = partialOf(full);
	const app = await renderApp(<App model={partial} loading source={null} width={100} height={30} />);
	try {
		let f = app.frame();
		assert.match(f, /5 containers · reading images, layers and findings…/);
		assert.match(f, /images without containers \(loading…\)/);
		await app.press('enter');
		f = app.frame();
		assert.match(f, /▾ c-0001[^\n]*\n +loading… +its layers and image are still being read/);
		await app.press('down');
		assert.match(app.frame(), /details: loading…/);
		await app.press('f');
		assert.match(app.frame(), /findings are still being read/);
		app.rerender(<App model={full} source={null} width={100} height={30} />);
		await tick();
		f = app.frame();
		assert.match(f, /5 containers · 3 images · 7 layers · 3 findings/);
		assert.match(f, /▾ c-0001[^\n]*\n +rw +\w+/);
		assert.match(f, /› +▾ c-0001/, 'the cursor moved from the loading row to its container');
		await app.press('down', 'down');
		assert.match(app.frame(), /details: init layer/);
		await app.press('f');
		assert.match(app.frame(), /\[only findings\]/);
	} finally {
		app.unmount();
	}
});

/** A feed driven by the test. */
function manualFeed(): ModelFeed & {set(s: FeedState): void; started: number} {
	let state: FeedState = {phase: 'reading', progress: {files: 0, dirs: 0, containers: 0, images: 0}};
	const listeners = new Set<() => void>();
	const feed = {
		started: 0,
		get: () => state,
		subscribe(l: () => void) {
			listeners.add(l);
			return () => void listeners.delete(l);
		},
		start() {
			feed.started++;
		},
		close() {},
		mode: () => 'worker' as const,
		set(s: FeedState) {
			state = s;
			for (const l of [...listeners]) l();
		},
	};
	return feed;
}

test('Root: the loading line with counts, the containers, the whole model; not a Docker root exits', async () => {
	const feed = manualFeed();
	const full = syntheticModel({containers: 4});
	const app = await renderApp(<Root root="/r" sample={false} feed={feed} onNotDockerRoot={() => {}} />);
	try {
		await new Promise(r => setTimeout(r, 40));
		assert.is(feed.started, 1, 'start() once the first frame is on screen');
		feed.set({phase: 'reading', progress: {files: 7, dirs: 2, containers: 3, images: 0}});
		await tick();
		assert.match(app.frame(), /reading \/r[\s\S]*3 container configs, 0 image configs, 7 files read/);
		feed.set({phase: 'partial', model: partialOf(full), loading: true, source: openSource('/'), details: null});
		await tick();
		assert.match(app.frame(), /4 containers · reading images/);
		feed.set({phase: 'full', model: full, loading: false, source: openSource('/'), details: null});
		await tick();
		assert.match(app.frame(), /4 containers · 3 images/);
	} finally {
		app.unmount();
	}
	const other = manualFeed();
	let told = false;
	const app2 = await renderApp(<Root root="/r" sample={false} feed={other} onNotDockerRoot={() => (told = true)} />);
	other.set({phase: 'not-a-docker-root'});
	await tick();
	assert.ok(told);
	app2.unmount();
});

test.run();
