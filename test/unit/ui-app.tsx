import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {App} from '../../components/App.tsx';
import {loadModel, openSource} from '../../src/load.ts';
import {renderApp} from '../helpers/ink.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {matchSnapshot} from '../helpers/snapshot.ts';
import {syntheticModel} from '../helpers/ui-model.ts';
import {filesRoot} from '../helpers/files-root.ts';

function lines(frame: string): string[] {
	return frame.split('\n');
}

function fits(frame: string, width: number, height: number) {
	const ls = lines(frame);
	assert.ok(ls.length <= height - 1, `${ls.length} lines in a ${height}-line terminal`);
	for (const l of ls) assert.ok([...l].length <= width, `line wider than ${width}: ${l}`);
}

test('real overlay2 tree at 100x30: open, expand a container, walk its chain (files of the init layer), image', async () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const {model, source} = loadModel(openSource(root));
	// The fixture is unpacked in a fresh temp folder: show a fixed root so the status bar is stable.
	const app = await renderApp(
		<App model={{...model, root: '/var/lib/docker'}} source={source} width={100} height={30} />,
	);
	const strip = (s: string) => s.replaceAll(root, '<root>');
	try {
		fits(app.frame(), 100, 30);
		matchSnapshot('ink/overlay2-open.txt', strip(app.frame()));
		await app.press('enter');
		matchSnapshot('ink/overlay2-expanded.txt', strip(app.frame()));
		await app.press('down', 'down');
		assert.match(app.frame(), /details: init layer/);
		matchSnapshot('ink/overlay2-init-layer.txt', strip(app.frame()));
		await app.press('down', 'tab', 'G');
		assert.match(app.frame(), /files \(top level\)/);
		assert.match(app.frame(), /bin\//, "a first listing of the layer's files");
		matchSnapshot('ink/overlay2-layer-files.txt', strip(app.frame()));
		await app.press('tab');
		await app.press('down');
		matchSnapshot('ink/overlay2-image.txt', strip(app.frame()));
		await app.press('l');
		assert.match(app.frame(), /details: image busybox/, 'l on a leaf does nothing');
		await app.press('h');
		assert.match(app.frame(), /details: container mystifying_murdock/, 'h on a child goes to its container');
	} finally {
		app.unmount();
	}
});

test('80x24: help overlay from the key table, then closed with Esc', async () => {
	const app = await renderApp(<App model={syntheticModel({containers: 40})} source={null} width={80} height={24} />);
	try {
		await app.press('?');
		const f = app.frame();
		fits(f, 80, 24);
		for (const k of [
			'↑ k',
			'↓ j',
			'→ l',
			'← h',
			'Enter',
			'g Home',
			'G End',
			'PgUp',
			'PgDn',
			'Tab',
			'/',
			'n N',
			'f',
			'd',
			'?',
			'q Ctrl-C',
			'Esc',
		])
			assert.ok(f.includes(` ${k}`), k);
		matchSnapshot('ink/help-80x24.txt', f);
		await app.press('j');
		assert.match(app.frame(), /help/, 'keys other than ? and Esc leave the help open');
		await app.press('escape');
		assert.not.match(app.frame(), /─ help/);
		assert.match(app.frame(), /▶ tree/);
	} finally {
		app.unmount();
	}
});

test('80x24: search a name, n for the next match, Esc on the search line goes back', async () => {
	const m = syntheticModel({containers: 40});
	const app = await renderApp(<App model={m} source={null} width={80} height={24} />);
	try {
		await app.press('/', 'c', '-', '0', '0', '3');
		let f = app.frame();
		assert.match(f, /\/c-003▏ {2}1 of 10/);
		assert.match(f, /› +▸ c-0030/);
		await app.press('enter');
		f = app.frame();
		assert.match(f, /\/c-003 {2}1 of 10 {2}n next/);
		await app.press('n', 'n');
		assert.match(app.frame(), /› +▸ c-0032/);
		matchSnapshot('ink/search-80x24.txt', app.frame());
		await app.press('N');
		assert.match(app.frame(), /› +▸ c-0031/);
		await app.press('/', 'z', 'z');
		assert.match(app.frame(), /no match/);
		await app.press('escape');
		assert.match(app.frame(), /› +▸ c-0031/, 'back where the search started');
	} finally {
		app.unmount();
	}
});

test('80x24: f filters to nodes with findings; marks; Tab scrolls the details', async () => {
	const app = await renderApp(<App model={syntheticModel({containers: 40})} source={null} width={80} height={24} />);
	try {
		await app.press('f');
		let f = app.frame();
		fits(f, 80, 24);
		assert.match(f, /containers \(1 of 40 with findings\)/);
		assert.match(f, /\[only findings\]/);
		matchSnapshot('ink/filter-80x24.txt', f);
		await app.press('f', 'down', 'down', 'tab');
		f = app.frame();
		assert.match(f, /▶ details: container c-0002/);
		await app.press('pageDown', 'down');
		f = app.frame();
		assert.match(f, /─ 10-18 of \d+$/m);
		matchSnapshot('ink/details-scrolled-80x24.txt', f);
		await app.press('tab', 'down');
		assert.match(app.frame(), /▶ tree/);
		assert.match(app.frame(), /details: container c-0003/);
		await app.press('f');
		assert.match(
			app.frame(),
			/› *▾ containers \(1 of 40 with findings\)/,
			'the filtered-out cursor falls back to its section',
		);
	} finally {
		app.unmount();
	}
});

test('3000 containers: only the visible rows are drawn; G, PgUp, g', async () => {
	const m = syntheticModel({containers: 3000, images: 60, layers: 6});
	const t = performance.now();
	const app = await renderApp(<App model={m} source={null} width={100} height={30} />);
	const first = performance.now() - t;
	try {
		fits(app.frame(), 100, 30);
		assert.match(app.frame(), /1-13 of 3007/);
		await app.press('G');
		let f = app.frame();
		assert.match(f, /2995-3007 of 3007/);
		assert.ok(lines(f).length === 29);
		await app.press('pageUp');
		f = app.frame();
		assert.match(f, /› +▸ c-2994/);
		matchSnapshot('ink/big-pageup-100x30.txt', f);
		await app.press('g');
		assert.match(app.frame(), /1-13 of 3007/);
		assert.ok(first < 2000, `first frame ${first} ms`);
	} finally {
		app.unmount();
	}
});

test('side by side at 160x40; quits on q', async () => {
	const app = await renderApp(<App model={syntheticModel({containers: 5})} source={null} width={160} height={40} />);
	try {
		const f = app.frame();
		fits(f, 160, 40);
		assert.match(f.split('\n')[0]!, /▶ tree.*│.*details: container c-0001/);
		matchSnapshot('ink/wide-160x40.txt', f);
	} finally {
		app.unmount();
	}
});

test("files view at 100x30: o on a container, into /etc, a text file's content, Esc back", async () => {
	const r = filesRoot();
	const {model, source} = loadModel(openSource(r.dir));
	const app = await renderApp(
		<App model={{...model, root: '/var/lib/docker'}} source={source} width={100} height={30} />,
	);
	try {
		await app.press('o');
		assert.match(app.frame(), /files: container web \//);
		await app.press('j', 'l');
		assert.match(app.frame(), /files: container web \/etc/);
		assert.match(app.frame(), /A\s+4 ?B\s+new\.conf/);
		await app.press('j');
		assert.match(app.frame(), /hello {4}world/, 'the content of a small text file');
		fits(app.frame(), 100, 30);
		matchSnapshot('ink/files-container-etc.txt', app.frame());
		await app.press('escape');
		assert.match(app.frame(), /details: container web/);
	} finally {
		app.unmount();
		r.remove();
	}
});

test.run();
