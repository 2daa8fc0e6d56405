// Teaching features without a daemon: provenance rules on built configs, explanations per driver (the
// real aufs and overlay2 trees, fake vfs and fuse-overlayfs roots), compare on fake roots (a hostile file
// name, an archive), graph output (escaping; Graphviz accepts it), the UI's e key, argument rules.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import {areaText, placeOf} from '../../src/teach/areas.ts';
import * as assert from 'uvu/assert';
import {parseCommandLine} from '../../src/args.ts';
import {run} from '../../src/cli.ts';
import type {Container, Image} from '../../src/model/types.ts';
import {driverFacts, initPlaceholders} from '../../src/teach/explain.ts';
import {buildGraph} from '../../src/teach/object-graph.ts';
import {provenance} from '../../src/teach/provenance.ts';
import {detailLines, explainLines} from '../../src/ui/detail.ts';
import {hintText, helpLines} from '../../src/ui/keys.ts';
import {initNav, reduce, selected} from '../../src/ui/nav.ts';
import {lineText} from '../../src/ui/text.ts';
import {buildTree} from '../../src/ui/tree.ts';
import {renderDot, renderMermaid} from '../../src/view/graph-text.ts';
import {FakeRoot, copyTree, hex} from '../helpers/fake-root.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {syntheticModel} from '../helpers/ui-model.ts';

async function ll(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
	let stdout = '';
	let stderr = '';
	const code = await run(args, {
		stdout: {write: (s: string) => (stdout += s)},
		stderr: {write: (s: string) => (stderr += s)},
		env: {},
	});
	return {code, stdout, stderr};
}

const esc = '\u001b[2J\u202e';

function container(config: Record<string, unknown>, hostConfig: Record<string, unknown> | null = null): Container {
	const id = hex('c');
	return {
		id,
		name: 'c',
		imageId: `sha256:${hex('i')}`,
		imageRef: 'img',
		imageTags: [],
		status: 'created',
		created: null,
		startedAt: null,
		finishedAt: null,
		exitCode: null,
		error: null,
		command: 'sh',
		driver: 'overlay2',
		mountId: hex('m'),
		initId: `${hex('m')}-init`,
		parentChainId: null,
		chain: [],
		config,
		hostConfig,
		mountPoints: null,
		path: `containers/${id}`,
	};
}

function image(config: Record<string, unknown> | null): Image {
	return {
		id: `sha256:${hex('i')}`,
		driver: 'overlay2',
		tags: ['img:latest'],
		digests: [],
		created: null,
		diffIds: [],
		chainIds: [],
		parent: null,
		children: [],
		intermediate: false,
		dangling: false,
		history: [],
		size: null,
		lastUpdated: null,
		config,
		architecture: null,
		os: null,
		containers: [],
		path: '',
	};
}

test('provenance: merge rules, entry by entry; no image means unknown', () => {
	const img = image({
		Env: ['PATH=/bin', 'A=1'],
		Cmd: ['sh'],
		Entrypoint: ['/init'],
		Labels: {x: '1'},
		WorkingDir: '/w',
		OnBuild: ['RUN x'],
	});
	const c = container(
		{
			Hostname: hex('c').slice(0, 12),
			Env: ['A=2', 'PATH=/bin', 'B=3'],
			Cmd: ['sh'],
			Entrypoint: ['/init'],
			Labels: {x: '1', y: '2'},
			WorkingDir: '/w',
			Tty: true,
			OnBuild: null,
			Image: 'img',
		},
		{
			NetworkMode: 'default',
			RestartPolicy: {Name: 'no', MaximumRetryCount: 0},
			Memory: 67108864,
			ShmSize: 67108864,
			Privileged: true,
			ConsoleSize: [0, 0],
		},
	);
	const p = provenance(c, img);
	const at = (f: string, k: string | null = null) => p.config.find(m => m.field === f && m.key === k)!;
	assert.equal([at('Env', 'A').origin, at('Env', 'A').imageValue], ['user', 'A=1']);
	assert.is(at('Env', 'PATH').origin, 'image');
	assert.is(at('Env', 'B').origin, 'user');
	assert.is(at('Cmd').origin, 'image');
	assert.is(at('Entrypoint').origin, 'image');
	assert.equal([at('Labels', 'x').origin, at('Labels', 'y').origin], ['image', 'user']);
	assert.is(at('Hostname').origin, 'daemon');
	assert.is(at('Tty').origin, 'user');
	assert.match(at('OnBuild').note ?? '', /ONBUILD/);
	assert.equal(
		p.host.filter(h => h.origin === 'user').map(h => h.field),
		['Memory', 'Privileged'],
	);
	assert.equal(
		p.host.filter(h => h.origin === 'daemon').map(h => h.field),
		['ShmSize'],
	);
	const unknown = provenance(c, undefined);
	assert.not.ok(unknown.imageKnown);
	assert.is(unknown.config.find(m => m.field === 'Cmd')!.origin, 'unknown');
	assert.is(unknown.config.find(m => m.field === 'Hostname')!.origin, 'daemon', 'the host name rule needs no image');
});

test('inspect --provenance and tree/inspect --explain on a fake root; hostile strings are shown escaped', async () => {
	const r = new FakeRoot('overlay2');
	try {
		const ids = r.addLayers([{diffId: `sha256:${hex('d0')}`, cacheId: hex('k0')}]);
		const imageId = r.addImage({
			layers: [{diffId: `sha256:${hex('d0')}`, cacheId: hex('k0')}],
			tags: ['img:1'],
			config: {Env: [`X=${esc}`], Cmd: ['sh']},
		});
		r.addContainer({id: hex('c1'), name: 'c1', image: imageId, imageRef: 'img:1', mountId: hex('m1')}, ids[0]);
		const cfg = JSON.parse(fs.readFileSync(r.p(`containers/${hex('c1')}/config.v2.json`), 'utf8'));
		cfg.Config = {Image: 'img:1', Cmd: ['sh'], Env: [`X=${esc}`, `Y=${esc}`], Hostname: 'h'};
		fs.writeFileSync(r.p(`containers/${hex('c1')}/config.v2.json`), JSON.stringify(cfg));
		const text = await ll(['inspect', 'c1', '--provenance', '--root', r.dir]);
		assert.is(text.code, 0, text.stderr);
		assert.not.match(text.stdout, /\u001b|\u202e/, 'no raw escape reaches the terminal');
		assert.match(text.stdout, /image\s+X=\\x1b\[2J\\u202e/);
		assert.match(text.stdout, /user\s+Y=\\x1b/);
		const json = JSON.parse((await ll(['inspect', 'c1', '--provenance', '--json', '--root', r.dir])).stdout);
		assert.equal(json.config.find((m: {key: string}) => m.key === 'Y').value, `Y=${esc}`, 'JSON keeps exact values');
		const tree = await ll(['tree', '--explain', '--root', r.dir]);
		assert.is(tree.code, 0);
		assert.match(tree.stdout, /What you are looking at/);
		assert.match(tree.stdout, /the three names of a layer/);
		const plain = await ll(['inspect', 'c1', '--root', r.dir]);
		assert.not.ok('explain' in JSON.parse(plain.stdout), 'inspect without flags is unchanged');
		const withExplain = JSON.parse((await ll(['inspect', 'img:1', '--explain', '--json', '--root', r.dir])).stdout);
		assert.is(withExplain.kind, 'image');
		assert.ok(withExplain.explain.length >= 2);
	} finally {
		r.remove();
	}
});

test('explanations per driver: the real aufs and overlay2 trees, fake vfs and fuse-overlayfs roots', async () => {
	const aufs = realRoot('aufs');
	if (aufs !== null) {
		const t = await ll(['tree', '--explain', '--root', aufs]);
		assert.is(t.code, 0);
		assert.match(t.stdout, /aufs\/layers\/[0-9a-f]{64}\n\s+a text file listing the cache ids of the layers below/);
		assert.match(t.stdout, /aufs\/mnt\/[0-9a-f]{64}\/\n\s+where aufs mounts the union/);
		assert.match(t.stdout, /\.wh\.<name>/);
		// Every aufs path named for the first container is there on the real host.
		const j = JSON.parse((await ll(['tree', '--explain', '--json', '--root', aufs])).stdout);
		const paths: string[] = j.explain.flatMap((s: {notes: Array<{label: string; optional?: boolean}>}) =>
			s.notes.filter(n => n.optional !== true && /^(aufs|image|containers)\//.test(n.label)).map(n => n.label),
		);
		assert.ok(paths.length > 5);
		assert.equal(
			paths.filter(
				p => !fs.existsSync(path.join(aufs, p)) && !/\/(hostname|hosts|resolv\.conf(\.hash)?|checkpoints\/)$/.test(p),
			),
			[],
		);
	}
	const o2 = realRoot('overlay2');
	if (o2 !== null) {
		const t = await ll(['tree', '--explain', '--root', o2]);
		assert.match(t.stdout, /overlay2\/[0-9a-f]{64}\/link\n/);
		assert.match(t.stdout, /character device 0:0/);
	}
	for (const driver of ['vfs', 'fuse-overlayfs'] as const) {
		const r = new FakeRoot(driver);
		try {
			const layers = [{diffId: `sha256:${hex('d0')}`, cacheId: hex('k0')}];
			const ids = r.addLayers(layers);
			const imageId = r.addImage({layers, tags: ['img:1']});
			r.addContainer({id: hex('c1'), name: 'c1', image: imageId, mountId: hex('m1')}, ids[0]);
			const t = await ll(['inspect', 'c1', '--explain', '--root', r.dir]);
			assert.is(t.code, 0);
			if (driver === 'vfs') {
				assert.match(t.stdout, /vfs\/dir\/[0-9a-f]{64}\/\n\s+a complete copy of the image/);
				assert.match(t.stdout, /no deletion markers/);
				assert.not.match(t.stdout, /\/merged\//);
			} else {
				assert.match(t.stdout, /fuse-overlayfs\/[0-9a-f]{64}\/merged\//);
				assert.match(
					t.stdout.replace(/\s+/g, ' '),
					/\.wh\.<name>\), while files deleted through the fuse-overlayfs mount become 0:0 character devices/,
				);
			}
		} finally {
			r.remove();
		}
	}
	for (const d of ['aufs', 'overlay2', 'fuse-overlayfs', 'vfs', 'overlay'])
		assert.ok(driverFacts(d).onCreate.length > 20, d);
	assert.equal(
		initPlaceholders
			.map(n => n.label)
			.filter(l => ['dev/console', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'etc/mtab'].includes(l)).length,
		5,
	);
});

test('compare: a container removed from a copy of the real overlay2 tree, directory against archive, and a hostile file name', async () => {
	const o2 = realRoot('overlay2');
	if (o2 === null) return;
	const after = copyTree(o2);
	try {
		const same = JSON.parse((await ll(['compare', o2, after, '--json'])).stdout);
		assert.equal([same.story, same.areas], [['nothing changed'], []]);
		const victim = fs.readdirSync(path.join(after, 'containers'))[0]!;
		fs.rmSync(path.join(after, 'containers', victim), {recursive: true});
		fs.writeFileSync(path.join(after, `evil${esc}`), 'x');
		const c = await ll(['compare', o2, after]);
		assert.is(c.code, 0);
		assert.match(c.stdout, new RegExp(`docker rm: container \\S+ ${victim.slice(0, 12)}`));
		assert.not.match(c.stdout, /\u001b|\u202e/);
		assert.match(c.stdout, /evil\\x1b\[2J\\u202e/);
		const tar = `${after}.tar`;
		spawnSync('tar', ['-C', after, '-cf', tar, '.']);
		const fromTar = await ll(['compare', o2, tar, '--json']);
		const fromDir = await ll(['compare', o2, after, '--json']);
		const norm = (s: string) =>
			JSON.stringify({...JSON.parse(s), after: ''}, (k, v) => (k === 'mtimeMs' ? Math.floor(v / 1000) : v));
		assert.is(norm(fromTar.stdout), norm(fromDir.stdout));
		fs.rmSync(tar, {force: true});
	} finally {
		fs.rmSync(after, {recursive: true, force: true});
	}
	const bad = await ll(['compare', '/nonexistent-before', o2]);
	assert.is(bad.code, 2);
});

test('graph: dot and mermaid from the sample; hostile names cannot break out of a label; Graphviz reads it', async () => {
	const dot = await ll(['graph', '--sample']);
	assert.is(dot.code, 0);
	assert.match(dot.stdout, /^digraph layerlens \{/);
	assert.match(dot.stdout, /label="docker_test\\n797edefac2a9 {2}created"/);
	assert.match(dot.stdout, /-> n\d+ \[label="created from", style=dashed\]/);
	const mer = await ll(['graph', 'docker_test', '--format', 'mermaid', '--sample']);
	assert.match(mer.stdout, /^flowchart TB\n/);
	assert.match(mer.stdout, /n0\(\["docker_test<br\/>797edefac2a9 {2}created"\]\)/);
	assert.is((await ll(['graph', '--format', 'svg', '--sample'])).code, 2);
	const model = syntheticModel({containers: 2});
	const hostile = {...model, containers: model.containers.map(c => ({...c, name: `x"];\n evil [label="${esc}`}))};
	const g = buildGraph(hostile);
	const d = renderDot(g);
	assert.not.match(d, /\u001b|\n evil/);
	assert.match(d, /x\\"\];\\\\n evil/);
	const m = renderMermaid(g);
	assert.not.match(m, /x"\]/);
	assert.match(m, /x#34;#93;;/);
	const hasDot = spawnSync('dot', ['-V']).status === 0;
	if (!hasDot && process.env.CI) assert.unreachable('Graphviz (dot) is required under CI');
	if (hasDot) {
		for (const text of [dot.stdout, d]) {
			const r = spawnSync('dot', ['-Tsvg'], {input: text, encoding: 'utf8'});
			assert.is(r.status, 0, r.stderr);
			assert.match(r.stdout, /<svg/);
		}
	}
});

test('UI: e scrolls the details to "what this is" and back; the key is in the help and the hint', () => {
	const tree = buildTree(syntheticModel());
	const lister = () => null;
	const ctx = {detailLength: (n: Parameters<typeof detailLines>[1]) => detailLines(tree, n, lister).length};
	let s = initNav(tree, 10, 8);
	const node = selected(s)!;
	assert.is(node.kind, 'container');
	const lines = detailLines(tree, node, lister);
	const about = explainLines(tree, node);
	s = reduce(s, {type: 'command', command: 'explain'}, ctx);
	assert.is(s.focus, 'details');
	const start = lines.length - about.length;
	assert.is(s.detailScroll, Math.min(start, lines.length - 8));
	assert.match(lines.slice(s.detailScroll).map(lineText).join('\n'), /what this is \(e\)/);
	assert.match(
		lines.map(lineText).join('\n'),
		/config \(image defaults merged with the run options; where each value came from\)/,
	);
	s = reduce(s, {type: 'command', command: 'explain'}, ctx);
	assert.is(s.detailScroll, 0, 'e again: back to the top');
	assert.ok(helpLines().some(h => h.keys === 'e'));
	assert.match(hintText(), /e explain/);
	for (const n of tree.sections) assert.ok(explainLines(tree, n).length > 2);
	// On a layer, "what this is" comes before the file listing, which stays last.
	s = reduce(s, {type: 'command', command: 'focus'}, ctx);
	s = reduce(s, {type: 'command', command: 'expand'}, ctx);
	s = reduce(s, {type: 'command', command: 'down'}, ctx);
	const layer = selected(s)!;
	assert.is(layer.kind, 'layer');
	const files = () => ({ok: true as const, entries: [{name: 'etc', kind: 'dir' as const, whiteout: false}], total: 1});
	const withFiles = {detailLength: (n: Parameters<typeof detailLines>[1]) => detailLines(tree, n, files).length};
	const ll2 = detailLines(tree, layer, files).map(lineText);
	const at = reduce(s, {type: 'command', command: 'explain'}, withFiles).detailScroll;
	assert.ok(
		ll2.slice(at, at + 3).some(l => l === 'what this is (e)') || at === ll2.length - 8,
		`scrolled to ${at}: ${ll2[at + 1]}`,
	);
	assert.ok(
		ll2.indexOf('what this is (e)') < ll2.findIndex(l => l.startsWith('files')),
		'explanation before the listing',
	);
});

test('arguments: compare takes two roots, graph --format dot|mermaid, --provenance only on inspect, watch --interval', () => {
	assert.not.ok(parseCommandLine(['compare', 'a']).ok);
	assert.not.ok(parseCommandLine(['compare', 'a', 'b', '--root', 'x']).ok);
	assert.ok(parseCommandLine(['compare', 'a', 'b', '--all', '--json']).ok);
	assert.not.ok(parseCommandLine(['tree', '--provenance']).ok);
	assert.ok(parseCommandLine(['tree', '--explain']).ok);
	const g = parseCommandLine(['graph', 'x', '--format', 'mermaid']);
	assert.ok(g.ok && g.args.graphFormat === 'mermaid' && g.args.refs.length === 1);
	const t = parseCommandLine(['timeline', '--format', 'csv']);
	assert.ok(t.ok && t.args.format === 'csv', 'timeline keeps its formats');
	assert.not.ok(parseCommandLine(['timeline', '--format', 'dot']).ok);
	assert.not.ok(parseCommandLine(['watch', '--interval', '5']).ok);
	const w = parseCommandLine(['watch', '--interval', '250']);
	assert.ok(w.ok && w.args.interval === 250);
	assert.not.ok(parseCommandLine(['watch', 'extra']).ok);
});

test('watch refuses an archive and a missing root', async () => {
	const r = await ll(['watch', '--sample']);
	assert.is(r.code, 2);
	const m = await ll(['watch', '--root', '/nonexistent-root']);
	assert.is(m.code, 2);
	const a = await ll(['watch', '--root', path.join(import.meta.dirname, '..', '..', 'sample', 'docker.tar.gz')]);
	assert.is(a.code, 2);
	assert.match(a.stderr, /a directory/);
});

test('compare: a vfs RW layer is a full copy of its image, not only what the container changed', () => {
	const owner = {role: 'rw' as const, containerId: 'c'.repeat(64), containerName: 'web'};
	const vfs = areaText(placeOf(`vfs/dir/${'a'.repeat(64)}/etc/x`), owner);
	assert.match(
		vfs,
		/RW layer of container web in vfs: a full copy of its image and init layer, plus what the container changed/,
	);
	assert.match(
		areaText(placeOf(`overlay2/${'a'.repeat(64)}/diff/x`), owner),
		/in overlay2: what the container changed$/,
	);
});

test.run();
