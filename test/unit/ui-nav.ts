import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {detailLines, detailTitle} from '../../src/ui/detail.ts';
import {initPlaceholder, initPlaceholders} from '../../src/teach/explain.ts';
import {
	actionForKey,
	reduceKey,
	initNav,
	type NavAction,
	type NavState,
	reduce,
	selected,
	windowTop,
} from '../../src/ui/nav.ts';
import {commandFor, helpLines, keyName, keyTable, type KeyLike} from '../../src/ui/keys.ts';
import {paneLayout} from '../../src/ui/pane-layout.ts';
import {rowLine} from '../../src/ui/rows.ts';
import {findMatches} from '../../src/ui/search.ts';
import {lineText, truncateLine, seg} from '../../src/ui/text.ts';
import {buildTree, flatten} from '../../src/ui/tree.ts';
import {syntheticModel} from '../helpers/ui-model.ts';

const cmd = (command: Extract<NavAction, {type: 'command'}>['command']): NavAction => ({type: 'command', command});
const run = (s: NavState, ...actions: NavAction[]) => actions.reduce((acc, a) => reduce(acc, a), s);
const key = (s: NavState) => selected(s)?.key ?? '';
const typed = (s: NavState, text: string) =>
	[...text].reduce((acc, ch) => reduce(acc, {type: 'searchInput', text: ch}), reduce(s, cmd('searchStart')));

test('tree: sections, containers collapsed, children built lazily and in chain order', () => {
	const m = syntheticModel({containers: 3, images: 2, layers: 3});
	const tree = buildTree(m);
	const rows = flatten(tree, new Set(['s:containers', 's:images', 's:findings']), false);
	assert.equal(
		rows.map(r => r.node.key.slice(0, 12)),
		[
			's:containers',
			...m.containers.map(c => `c:${c.id}`.slice(0, 12)),
			's:images',
			`i:overlay2:s`,
			's:findings',
			'f:0',
			'f:1',
			'f:2',
		],
	);
	const c = tree.tops.get('containers')![0]!;
	const kids = tree.children(c);
	assert.equal(
		kids.map(k => (k.kind === 'layer' ? k.role : k.kind)),
		['rw', 'init', 'image', 'image', 'image', 'image'],
	);
	assert.is(tree.children(c), kids, 'cached');
	const topLayer = kids[2]!;
	assert.ok(topLayer.kind === 'layer' && topLayer.chainId === m.images[0]!.chainIds[2], 'image layers top down');
	assert.is(tree.node(`${c.key}/img`)?.kind, 'image');
});

test('tree: findings mark the nodes they concern and count up to the container', () => {
	const m = syntheticModel({containers: 3});
	const tree = buildTree(m);
	const c1 = tree.tops.get('containers')![1]!;
	assert.is(c1.total.count, 1);
	assert.is(c1.total.worst, 'error');
	const rw = tree.children(c1)[0]!;
	assert.is(rw.marks.count, 1, 'the RW layer whose directory the finding names');
	assert.is(tree.children(c1)[1]!.marks.count, 0, 'not the init layer');
	const lonely = tree.tops.get('images')![0]!;
	assert.is(lonely.total.count, 1);
	assert.is(tree.sections[2]!.count, 3);
});

test('nav: moving, windowing, page keys and g/G', () => {
	const tree = buildTree(syntheticModel({containers: 50}));
	let s = initNav(tree, 10, 5);
	assert.is(s.cursor, 1, 'starts on the first container');
	s = run(s, cmd('down'), cmd('down'));
	assert.is(s.cursor, 3);
	assert.is(s.top, 0);
	s = run(s, cmd('pageDown'));
	assert.is(s.cursor, 12);
	assert.is(s.top, 3, 'window follows the cursor');
	s = run(s, cmd('bottom'));
	assert.is(s.cursor, s.rows.length - 1);
	assert.is(s.top, s.rows.length - 10);
	s = run(s, cmd('top'));
	assert.is(s.cursor, 0);
	assert.is(s.top, 0);
	s = run(s, cmd('up'));
	assert.is(s.cursor, 0, 'clamped at the top');
	assert.is(windowTop(5, 0, 3, 10), 3);
	assert.is(windowTop(0, 5, 3, 10), 0);
	assert.is(windowTop(9, 0, 3, 4), 1, 'never past the end');
});

test('nav: expand, collapse, go to child and parent, toggle; the rows change only then', () => {
	const tree = buildTree(syntheticModel({containers: 5}));
	let s = initNav(tree, 10, 5);
	const c = key(s);
	const rows = s.rows;
	s = run(s, cmd('down'), cmd('up'));
	assert.is(s.rows, rows, 'moving does not re-flatten');
	s = run(s, cmd('expand'));
	assert.is(key(s), c);
	assert.is(s.rows.length, rows.length + 6);
	s = run(s, cmd('expand'));
	assert.is(key(s), `${c}/0`, 'right on an expanded node goes to its first child');
	s = run(s, cmd('down'), cmd('collapse'));
	assert.is(key(s), c, 'left on a child goes to the parent');
	s = run(s, cmd('collapse'));
	assert.is(s.rows.length, rows.length);
	s = run(s, cmd('toggle'));
	assert.ok(s.expanded.has(c));
	s = run(s, cmd('toggle'));
	assert.not.ok(s.expanded.has(c));
	// Collapsing a section while on a child moves to the section.
	s = run(s, cmd('expand'), cmd('expand'), cmd('top'), cmd('collapse'));
	assert.is(s.rows.length, 3 + 1 + 3);
});

test('nav: Tab moves the focus; the details scroll within their length', () => {
	const tree = buildTree(syntheticModel({containers: 5}));
	let s = initNav(tree, 10, 5);
	const ctx = {detailLength: () => 12};
	s = reduce(s, cmd('focus'));
	assert.is(s.focus, 'details');
	for (let i = 0; i < 20; i++) s = reduce(s, cmd('down'), ctx);
	assert.is(s.detailScroll, 7, '12 lines in a 5-line pane');
	assert.is(s.cursor, 1, 'the cursor stays');
	s = reduce(s, cmd('top'), ctx);
	assert.is(s.detailScroll, 0);
	s = reduce(s, cmd('pageDown'), ctx);
	assert.is(s.detailScroll, 4);
	s = reduce(s, cmd('focus'));
	s = reduce(s, cmd('down'), ctx);
	assert.is(s.detailScroll, 0, 'a new selection starts at the top of its details');
});

test('search: name, id prefix, tag, cache id and path; n/N with wrap; Esc goes back', () => {
	const m = syntheticModel({containers: 30});
	const tree = buildTree(m);
	const c7 = m.containers[6]!;
	assert.equal(findMatches(tree, 'c-0007', false), [`c:${c7.id}`]);
	assert.ok(findMatches(tree, c7.id.slice(0, 6), false).includes(`c:${c7.id}`), 'id prefix');
	assert.ok(findMatches(tree, `sha256:${m.images[1]!.id.slice(7, 15)}`, false).length > 0);
	const rw = c7.chain[0]!;
	assert.equal(
		findMatches(tree, rw.cacheId!.slice(0, 10), false),
		[`c:${c7.id}/0`, `c:${c7.id}/1`],
		'cache id: RW and init layers',
	);
	assert.equal(
		findMatches(tree, rw.cacheId!, false),
		[`c:${c7.id}`, `c:${c7.id}/0`, `c:${c7.id}/1`],
		'a whole RW cache id names the container too',
	);
	assert.equal(
		findMatches(tree, `${c7.mountId}-init`, false),
		[`c:${c7.id}`, `c:${c7.id}/1`],
		'so does the -init name',
	);
	assert.ok(findMatches(tree, 'APP/IMG-02', false).length >= 15, 'tags, case-insensitive');
	assert.equal(findMatches(tree, '   ', false), []);

	let s = initNav(tree, 10, 5);
	const start = key(s);
	s = typed(s, 'c-0007');
	assert.is(key(s), `c:${c7.id}`);
	assert.ok(s.search.typing);
	s = reduce(s, {type: 'searchSubmit'});
	assert.not.ok(s.search.typing);
	// A cache id inside a collapsed container: the container opens.
	s = reduce(typed(s, rw.cacheId!.slice(0, 12)), {type: 'searchSubmit'});
	assert.is(key(s), `c:${c7.id}/0`);
	assert.ok(s.expanded.has(`c:${c7.id}`));
	s = reduce(s, cmd('nextMatch'));
	assert.is(key(s), `c:${c7.id}/1`);
	s = reduce(s, cmd('nextMatch'));
	assert.is(key(s), `c:${c7.id}/0`);
	assert.match(s.message ?? '', /wrapped/);
	s = reduce(s, cmd('prevMatch'));
	assert.is(key(s), `c:${c7.id}/1`);
	// Esc: back to where the search began.
	const before = key(s);
	s = reduce(typed(s, 'c-0020'), {type: 'searchCancel'});
	assert.is(key(s), before);
	assert.is(s.search.query, '');
	// No match: a message, the cursor stays.
	s = reduce(typed(s, 'zzzz'), {type: 'searchSubmit'});
	assert.is(key(s), before);
	assert.match(s.message ?? '', /no match/);
	// Backspace edits the query.
	s = typed(s, 'c-00099');
	s = reduce(s, {type: 'searchBackspace'});
	assert.is(s.search.query, 'c-0009');
	assert.is(key(s), `c:${m.containers[8]!.id}`);
	assert.ok(start.startsWith('c:'));
});

test('filter: only nodes with findings; again shows all; the cursor falls back to a shown ancestor', () => {
	const m = syntheticModel({containers: 10});
	const tree = buildTree(m);
	let s = initNav(tree, 10, 5);
	s = reduce(s, cmd('filter'));
	assert.ok(s.filter);
	const shown = s.rows.filter(r => r.node.kind === 'container').map(r => r.node.key);
	assert.equal(shown, [`c:${m.containers[1]!.id}`]);
	assert.match(s.message ?? '', /only nodes with findings/);
	assert.is(s.rows.filter(r => r.node.kind === 'finding').length, 3, 'the findings section stays whole');
	assert.equal(findMatches(tree, 'c-000', true), [`c:${m.containers[1]!.id}`], 'search respects the filter');
	s = reduce(s, cmd('filter'));
	assert.is(s.rows.filter(r => r.node.kind === 'container').length, 10);
	assert.is(
		reduce(initNav(buildTree(syntheticModel({findings: false})), 5, 5), cmd('filter')).message?.includes('no findings'),
		true,
	);
	// Enter on a finding goes to the node it concerns (opening what hides it).
	s = run(s, cmd('bottom'), cmd('up'), cmd('up'));
	assert.is(selected(s)?.kind, 'finding');
	s = reduce(s, cmd('toggle'));
	assert.is(key(s), `c:${m.containers[1]!.id}`);
	s = run(s, cmd('bottom'), cmd('up'), cmd('toggle'));
	assert.is(key(s), `i:overlay2:${m.images[2]!.id}/0`, 'a layer finding: the first place the layer appears');
	s = run(s, cmd('bottom'), cmd('toggle'));
	assert.match(s.message ?? '', /no node/);
});

test('keys: one table for input and help; modes', () => {
	const none: KeyLike = {
		upArrow: false,
		downArrow: false,
		leftArrow: false,
		rightArrow: false,
		pageUp: false,
		pageDown: false,
		return: false,
		escape: false,
		ctrl: false,
		tab: false,
		backspace: false,
		delete: false,
	};
	assert.is(keyName('', {...none, downArrow: true}), 'down');
	assert.is(keyName('j', none), 'j');
	assert.is(keyName('c', {...none, ctrl: true}), 'ctrl+c');
	assert.is(keyName('', {...none, delete: true}), 'backspace', 'Ink 6 reports Backspace as delete');
	assert.is(keyName('', {...none, escape: true}), 'esc');
	for (const [k, c] of [
		['j', 'down'],
		['k', 'up'],
		['h', 'collapse'],
		['l', 'expand'],
		['enter', 'toggle'],
		['g', 'top'],
		['G', 'bottom'],
		['pageup', 'pageUp'],
		['pagedown', 'pageDown'],
		['tab', 'focus'],
		['/', 'searchStart'],
		['n', 'nextMatch'],
		['N', 'prevMatch'],
		['f', 'filter'],
		['?', 'help'],
		['q', 'quit'],
		['ctrl+c', 'quit'],
	] as const) {
		assert.is(commandFor(k), c, k);
	}
	const help = helpLines();
	for (const b of keyTable)
		assert.ok(
			help.some(h => h.help === b.help || h.help.split(' / ').includes(b.help)),
			`help lists ${b.command}`,
		);
	const s = initNav(buildTree(syntheticModel()), 5, 5);
	const searching = reduce(s, cmd('searchStart'));
	assert.equal(actionForKey(searching, 'q', 'q'), {type: 'searchInput', text: 'q'}, 'typing takes letters');
	assert.equal(actionForKey(searching, 'esc', ''), {type: 'searchCancel'});
	assert.equal(actionForKey(searching, 'ctrl+c', 'c'), cmd('quit'));
	const helping = reduce(s, cmd('help'));
	assert.equal(actionForKey(helping, 'j', 'j'), null);
	assert.equal(actionForKey(helping, 'esc', ''), {type: 'closeHelp'});
	assert.ok(reduce(s, cmd('quit')).quit);
	// Several characters in one read are several keys.
	const pasted = reduceKey(s, '/c-0002', '/c-0002');
	assert.ok(pasted.search.typing);
	assert.is(pasted.search.query, 'c-0002');
	assert.is(reduceKey(s, 'jj', 'jj').cursor, s.cursor + 2);
	const tabbed = reduceKey(s, '\tG', '\tG', {detailLength: () => 50});
	assert.is(tabbed.focus, 'details');
	assert.is(tabbed.detailScroll, 45);
	assert.is(reduceKey(s, '/ab\u007f\r', '/ab\u007f\r').search.query, 'a');
});

test('rows and text: cut to width, never wrapped; evidence is cleaned', () => {
	const m = syntheticModel({containers: 2});
	const evil = {...m.containers[0]!, name: 'evil\u001b[2J\u202ename'};
	const tree = buildTree({...m, containers: [evil, m.containers[1]!]});
	const rows = flatten(tree, new Set(['s:containers']), false);
	const line = lineText(rowLine(tree, rows[1]!, 200));
	assert.not.match(line, /\u001b|\u202e/);
	assert.match(line, /evil\\x1b\[2J\\u202ename/);
	for (const w of [10, 40, 79]) assert.ok([...lineText(rowLine(tree, rows[1]!, w))].length <= w);
	assert.is(lineText(truncateLine([seg('abcdef'), seg('ghi')], 5)), 'abcd…');
	assert.is(lineText(truncateLine([seg('abc')], 3)), 'abc');
	const lines = detailLines(tree, tree.tops.get('containers')![0]!, () => null);
	assert.ok(lines.every(l => !/[\u0000-\u001f]/.test(lineText(l))));
});

test('details: container, layers, image and init-layer explanations', () => {
	const m = syntheticModel({containers: 3});
	const tree = buildTree(m);
	const c = tree.tops.get('containers')![1]!;
	const text = (lines: ReturnType<typeof detailLines>) => lines.map(lineText).join('\n');
	const ct = text(detailLines(tree, c, () => null));
	for (const s of [
		'status',
		'exited (1)',
		'created',
		'started',
		'finished',
		'exit code',
		'command',
		'image as typed',
		'image used',
		'binds',
		'/srv:/data:ro',
		'80/tcp <- 0.0.0.0:8080',
		'restart',
		'always',
		'privileged',
		'yes',
		'NET_ADMIN',
		'mount points',
		'/data <- /srv',
		'env',
		'A=1',
		'container.layer-dir-missing',
	])
		assert.ok(ct.includes(s), s);
	// The stored state beyond the status, once the details are read (config.v2.json).
	if (c.kind !== 'container') throw new Error('a container node');
	const stored = {
		State: {Pid: 4242, OOMKilled: true, Health: {Status: 'unhealthy', FailingStreak: 3}},
		RestartCount: 2,
		HasBeenManuallyStopped: true,
		LogPath: '/var/lib/docker/containers/x/x-json.log\u001b[2J',
	};
	const st = text(detailLines(tree, {...c, container: {...c.container, stored}}, () => null));
	for (const s of [
		'pid',
		'4242',
		'oom killed',
		'restarts',
		'unhealthy (failing streak 3)',
		'docker stop',
		'x-json.log\\x1b[2J',
	])
		assert.ok(st.includes(s), s);
	assert.not.ok(ct.includes('oom killed'), 'nothing when not read');
	// Its image removed (docker rmi -f): a warning when the chain is all there, an error when it is not.
	const orphan = (intact: boolean) => ({
		...c,
		container: {
			...c.container,
			imageId: `sha256:${'f'.repeat(64)}`,
			chain: c.container.chain.map((e, i) => ({...e, pathExists: intact || i !== 2})),
		},
	});
	assert.match(
		text(detailLines(tree, orphan(true), () => null)),
		/image used\s+ffffffffffff\s+\(removed from the image store; its layers are all there, so it still starts\)/,
	);
	assert.match(
		text(detailLines(tree, orphan(false), () => null)),
		/image used\s+ffffffffffff\s+\(not in the image store\)/,
	);
	const [rw, init, top] = tree.children(c);
	const listing = {
		ok: true as const,
		total: 3,
		entries: [
			{name: '.dockerenv', kind: 'file' as const, whiteout: false},
			{name: 'etc', kind: 'dir' as const, whiteout: false},
			{name: 'gone', kind: 'char' as const, whiteout: true},
		],
	};
	const sub = {ok: true as const, total: 1, entries: [{name: 'hosts', kind: 'file' as const, whiteout: false}]};
	const files = (dir: string) => (dir.endsWith('/etc') ? sub : listing);
	const rt = text(detailLines(tree, rw!, files));
	assert.match(rt, /RW layer/);
	assert.match(rt, /gone {2}\(whiteout: deleted in this layer\)/);
	const it = text(detailLines(tree, init!, files));
	// One table for the explorer and inspect --explain (teach/explain.ts initPlaceholders).
	assert.match(it, /\.dockerenv\s+an empty file; its presence tells/);
	assert.match(it, /etc\/hosts\s+an empty placeholder: at start, containers\/<id>\/hosts/);
	for (const n of initPlaceholders) assert.is(initPlaceholder(n.label.replace(/\/$/, ''))?.text, n.text, n.label);
	// The row and the details agree: docker create writes the init layer, once.
	assert.match(
		lineText(rowLine(tree, {node: init!, expanded: false}, 200)),
		/init .*placeholders docker create writes/,
	);
	assert.match(it, /init layer: placeholders docker create writes once/);
	const lt = text(detailLines(tree, top!, files));
	for (const s of [
		'chain id',
		'diff id',
		'cache id',
		'directory',
		'size',
		'created by',
		'echo step 2',
		'parent',
		'images',
		'containers',
	])
		assert.ok(lt.includes(s), s);
	const img = tree.children(c).at(-1)!;
	const imt = text(detailLines(tree, img, () => null));
	for (const s of [
		'tags',
		'app/img-02:1',
		'created',
		'entrypoint',
		'cmd',
		'env',
		'workdir',
		'labels',
		'maintainer=me',
		'history',
		'ADD file:abc',
	])
		assert.ok(imt.includes(s), s);
	assert.match(detailTitle(img), /^image app\/img-02:1/);
	for (const p of [
		'dev/console',
		'dev/pts',
		'dev/shm',
		'etc/hostname',
		'etc/hosts',
		'etc/resolv.conf',
		'etc/mtab',
		'.dockerenv',
		'proc',
		'sys',
	])
		assert.ok(
			initPlaceholders.some(n => n.label.replace(/\/$/, '') === p),
			p,
		);
});

test('layout: fits 80x24 and 100x30, one line short of the terminal; side by side when wide', () => {
	const a = paneLayout(80, 24);
	assert.is(a.lines, 23);
	assert.not.ok(a.sideBySide);
	assert.is(a.treeRows + a.detailRows + 2 + 2, 23);
	const b = paneLayout(100, 30);
	assert.is(b.treeRows + b.detailRows + 4, 29);
	const c = paneLayout(160, 40);
	assert.ok(c.sideBySide);
	assert.is(c.treeWidth + c.detailWidth + 1, 160);
});

test('3000 containers: building, flattening and moving stay fast', () => {
	// The best of three runs of each step: the bound is on the code, not on what else the machine runs.
	const m = syntheticModel({containers: 3000, images: 60, layers: 6});
	const best = (f: () => void): number => {
		let min = Infinity;
		for (let k = 0; k < 3; k++) {
			const t = performance.now();
			f();
			min = Math.min(min, performance.now() - t);
		}
		return min;
	};
	let tree = buildTree(m);
	let s = initNav(tree, 20, 20);
	const build = best(() => {
		tree = buildTree(m);
		s = initNav(tree, 20, 20);
	});
	const start = s;
	const move =
		best(() => {
			s = start;
			for (let i = 0; i < 1000; i++) s = reduce(s, cmd('down'));
		}) / 1000;
	const moved = s;
	const expand = best(() => {
		s = reduce(moved, cmd('expand'));
	});
	const expanded = s;
	const search = best(() => {
		s = reduce(typed(expanded, 'c-2999'), {type: 'searchSubmit'});
	});
	assert.is(selected(s)?.kind, 'container');
	assert.ok(build < 300, `build ${build} ms`);
	assert.ok(move < 1, `move ${move} ms`);
	assert.ok(expand < 50, `expand ${expand} ms`);
	assert.ok(search < 500, `search ${search} ms`);
});

test('the pure UI modules load neither ink nor react', () => {
	const dir = path.join(import.meta.dirname, '..', '..', 'src', 'ui');
	for (const f of fs.readdirSync(dir)) {
		const text = fs.readFileSync(path.join(dir, f), 'utf8');
		assert.not.match(text, /from '(ink|react|ink-testing-library)'|components\//, f);
	}
});

test('status bar: root, sample/archive, counts, findings, drivers; the root shortened from the left to fit', async () => {
	const {statusLine} = await import('../../src/ui/status.ts');
	const m = {...syntheticModel({containers: 3}), root: '/a/very/long/path/to/some/docker/root/var/lib/docker'};
	const full = lineText(statusLine(m, {sample: true}, false));
	assert.match(full, /^ \/a\/very.*docker \(sample\) {2}3 containers · 3 images · 7 layers · 3 findings {2}overlay2$/);
	const cut = lineText(statusLine(m, {sample: false}, true, 80));
	assert.ok([...cut].length <= 80, cut);
	assert.match(cut, /^ \[only findings\] …\S+ {2}3 containers · 3 images · 7 layers · 3 findings {2}overlay2$/);
	assert.match(lineText(statusLine({...m, sourceKind: 'archive'}, {sample: false}, false)), /docker \(archive\)/);
});

test('progress: a counting Source reports containers, image configs, files and directories, at most every interval', async () => {
	const {countingSource, loadingLines} = await import('../../src/ui/progress.ts');
	const reports: number[] = [];
	let clock = 0;
	const inner = {
		kind: 'dir' as const,
		location: '/x',
		list: () => ({ok: true as const, value: []}),
		stat: () => ({ok: false as const, error: {code: 'missing' as const, path: '', message: ''}}),
		readFile: () => ({ok: true as const, value: Buffer.from('{}')}),
		readLink: () => ({ok: true as const, value: ''}),
	};
	const src = countingSource(
		inner,
		p => reports.push(p.containers * 1000 + p.images * 100 + p.files),
		50,
		() => clock,
	);
	src.list('containers');
	for (let i = 0; i < 3; i++) {
		clock += 30;
		src.readFile(`containers/c${i}/config.v2.json`, 10);
	}
	clock += 60;
	src.readFile('image/overlay2/imagedb/content/sha256/abc', 10);
	assert.equal(reports, [2002, 3104]);
	const [a, b] = loadingLines('/var/lib/docker', {files: 5, dirs: 2, containers: 1, images: 0}, 3, 40);
	assert.match(a, /^ ⠸ reading \/var\/lib\/docker$/);
	assert.ok([...b].length <= 40 && b.endsWith('…'));
});
test.run();
