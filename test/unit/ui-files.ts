// The explorer's files view (o): open on a container, an image or a layer of a small fake
// overlay2 root, enter and leave directories, marks, and which files show their content.
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../../src/load.ts';
import {
	contentOf,
	currentDir,
	enterDir,
	fileDetailLines,
	fileRowLine,
	goUp,
	moveFiles,
	openFiles,
	selectedFile,
	type FilesState,
} from '../../src/ui/files-view.ts';
import {initNav, reduceKey, selected} from '../../src/ui/nav.ts';
import {lineText} from '../../src/ui/text.ts';
import {buildTree, type TreeNode} from '../../src/ui/tree.ts';
import {filesRoot} from '../helpers/files-root.ts';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function setup() {
	const r = filesRoot();
	const {model, source} = loadModel(openSource(r.dir));
	const tree = buildTree(model);
	return {r, model, source, tree};
}

const names = (f: FilesState) => f.rows.map(x => `${x.mark} ${x.name}${x.kind === 'dir' ? '/' : ''}`);
const go = (f: FilesState, name: string) =>
	moveFiles(
		f,
		f.rows.findIndex(x => x.name === name),
		10,
	);

test("container: the merged view with the RW layer's marks, one directory at a time", () => {
	const {r, model, source, tree} = setup();
	try {
		const c = tree.tops.get('containers')![0]!;
		const f = openFiles(source, model, c);
		assert.ok(typeof f !== 'string', String(f));
		if (typeof f === 'string') return;
		assert.equal(names(f), ['M bin/', 'M etc/']);
		assert.is(currentDir(f), '/');
		const etc = enterDir(source, go(f, 'etc'));
		assert.is(currentDir(etc), '/etc');
		assert.equal(names(etc), ['M hostname', '  motd', 'A new.conf']);
		const bin = enterDir(source, go(f, 'bin'));
		assert.equal(names(bin), asRoot ? ['D cat', '  sh'] : ['  cat', '  sh']);
		const up = goUp(source, etc);
		assert.ok(up !== null);
		assert.is(selectedFile(up!)?.name, 'etc', 'back on the directory it came from');
		assert.is(goUp(source, up!), null, 'nothing above the root');
		const hostname = go(etc, 'hostname');
		assert.is(enterDir(source, hostname), hostname, 'a file is not entered');
		assert.match(lineText(fileRowLine(etc.rows[2]!, 60, false)), /A\s+4 ?B\s+new\.conf/);
	} finally {
		r.remove();
	}
});

test('layer and image: own entries marked against the layers below; an image unmarked', () => {
	const {r, model, source, tree} = setup();
	try {
		const c = tree.tops.get('containers')![0]!;
		const kids = tree.children(c);
		const top = kids.find(k => k.kind === 'layer' && k.role === 'image') as TreeNode;
		const lf = openFiles(source, model, top);
		if (typeof lf === 'string') return assert.unreachable(lf);
		assert.match(lf.title, /image layer top/);
		assert.equal(names(lf), ['M etc/'], "only the layer's own entries");
		assert.equal(names(enterDir(source, go(lf, 'etc'))), ['A motd']);
		const bottom = kids.filter(k => k.kind === 'layer').at(-1)!;
		const bf = openFiles(source, model, bottom);
		if (typeof bf === 'string') return assert.unreachable(bf);
		assert.equal(names(bf), ['A bin/', 'A etc/'], 'the bottom layer adds everything');
		const img = tree.tops.get('images')?.[0] ?? kids.find(k => k.kind === 'image');
		const f = openFiles(source, model, img!);
		if (typeof f === 'string') return assert.unreachable(f);
		assert.equal(names(enterDir(source, go(f, 'etc'))), ['  hostname', '  motd']);
		assert.is(typeof openFiles(source, model, tree.node('s:containers')!), 'string', 'a section has no files');
	} finally {
		r.remove();
	}
});

test('content: small text shown cleaned, binary and large files not', () => {
	const {r, model, source, tree} = setup();
	try {
		const f = openFiles(source, model, tree.tops.get('containers')![0]!);
		if (typeof f === 'string') return assert.unreachable(f);
		const etc = enterDir(source, go(f, 'etc'));
		const motd = go(etc, 'motd');
		const c = contentOf(source, selectedFile(motd)!);
		assert.is(c.show, 'text');
		const text = fileDetailLines(source, motd, 40).map(lineText).join('\n');
		assert.match(text, /status\s+unchanged/);
		assert.match(text, /hello {4}world/);
		assert.not.match(text, /\u001b/, 'escape sequences cleaned');
		const bin = enterDir(source, go(f, 'bin'));
		assert.match(fileDetailLines(source, go(bin, 'sh'), 80).map(lineText).join('\n'), /too large/);
		if (!asRoot) {
			assert.match(fileDetailLines(source, go(bin, 'cat'), 80).map(lineText).join('\n'), /binary/);
		} else {
			assert.match(fileDetailLines(source, go(bin, 'cat'), 80).map(lineText).join('\n'), /deleted by this layer/);
			const base = tree
				.children(tree.tops.get('containers')![0]!)
				.filter(k => k.kind === 'layer')
				.at(-1)!;
			const bf = openFiles(source, model, base);
			if (typeof bf === 'string') return assert.unreachable(bf);
			assert.match(
				fileDetailLines(source, go(enterDir(source, go(bf, 'bin')), 'cat'), 80)
					.map(lineText)
					.join('\n'),
				/binary/,
			);
		}
	} finally {
		r.remove();
	}
});

test('nav: o opens the files of the selected node, l enters, h and Backspace go up, Esc leaves', () => {
	const {r, source, tree} = setup();
	try {
		const ctx = {source};
		let s = initNav(tree, 10, 10);
		assert.is(selected(s)?.kind, 'container');
		s = reduceKey(s, 'o', 'o', ctx);
		assert.ok(s.files, 'files view open');
		s = reduceKey(s, 'j', 'j', ctx);
		s = reduceKey(s, 'l', 'l', ctx);
		assert.is(currentDir(s.files!), '/etc');
		s = reduceKey(s, 'backspace', '', ctx);
		assert.is(currentDir(s.files!), '/');
		s = reduceKey(s, 'h', 'h', ctx);
		assert.match(s.message ?? '', /at the top/);
		s = reduceKey(s, '/', '/', ctx);
		assert.is(s.search.typing, false, 'search is not for the files view');
		s = reduceKey(s, 'esc', '', ctx);
		assert.is(s.files ?? null, null);
		assert.is(selected(s)?.kind, 'container', 'back where it was');
		assert.match(reduceKey(s, 'o', 'o', {}).message ?? '', /no files/);
	} finally {
		r.remove();
	}
});

test.run();
