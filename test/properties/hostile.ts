import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import ts from 'typescript';
import {run} from '../../src/cli.ts';
import {loadModel, openSource} from '../../src/load.ts';
import type {Model} from '../../src/model/types.ts';
import {parseJson} from '../../src/formats/json-parse.ts';
import {buildGraph} from '../../src/teach/object-graph.ts';
import {detailLines, explainLines} from '../../src/ui/detail.ts';
import {type TreeNode, buildTree} from '../../src/ui/tree.ts';
import {sampleRoot} from '../helpers/check-roots.ts';
import {FakeRoot, chain, copyTree, hex} from '../helpers/fake-root.ts';
import {rng} from '../helpers/rng.ts';
import {cli, repo} from '../helpers/run-cli.ts';

// Hostile and damaged input: each damage is a finding on its object, and the rest is still shown.

function host() {
	const root = new FakeRoot('overlay2');
	const layers = [0, 1].map(i => ({diffId: `sha256:${hex(`d${i}`)}`, cacheId: hex(`c${i}`)}));
	const image = root.addImage({layers, tags: ['app:1']});
	const top = chain(layers.map(l => l.diffId))[1];
	for (const n of ['victim', 'bystander']) root.addContainer({id: hex(n), name: n, image, mountId: hex(`m-${n}`)}, top);
	return {root, image};
}

const cases: Array<[string, (root: FakeRoot, file: string) => void, string]> = [
	['a 2 GB config.v2.json (sparse)', (_, f) => fs.truncateSync(f, 2 * 1024 ** 3), 'file.too-large'],
	['deeply nested JSON', (_, f) => fs.writeFileSync(f, '['.repeat(2_000_000) + ']'.repeat(2_000_000)), 'json.'],
	['invalid JSON', (_, f) => fs.writeFileSync(f, '{"ID": nope}'), 'json.invalid'],
	['a truncated file', (_, f) => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 40)), 'json.invalid'],
	['an empty file', (_, f) => fs.writeFileSync(f, ''), 'json.empty'],
	[
		'binary garbage',
		(_, f) => fs.writeFileSync(f, Buffer.from(Array.from({length: 4096}, (_, i) => (i * 7919) % 256))),
		'json.invalid',
	],
	['a JSON array instead of an object', (_, f) => fs.writeFileSync(f, '[1,2,3]'), 'json.shape'],
	[
		'wrong types in the right fields',
		(_, f) =>
			fs.writeFileSync(
				f,
				JSON.stringify({ID: 5, Name: ['x'], Image: {}, Driver: 7, State: 'running', Config: [1], Args: 'sh'}),
			),
		'container.field-invalid',
	],
	[
		'a FIFO instead of a file',
		(_, f) => {
			fs.rmSync(f);
			spawnSync('mkfifo', [f]);
		},
		'file.not-a-file',
	],
	[
		'a directory instead of a file',
		(_, f) => {
			fs.rmSync(f);
			fs.mkdirSync(f);
		},
		'file.not-a-file',
	],
	[
		'a symlink out of the root',
		(_, f) => {
			fs.rmSync(f);
			fs.symlinkSync('/etc/passwd', f);
		},
		'file.symlink',
	],
];

for (const [what, damage, code] of cases) {
	test(`config.v2.json: ${what} is a finding on that container, the other is intact`, () => {
		const {root, image} = host();
		try {
			damage(root, root.p(`containers/${hex('victim')}/config.v2.json`));
			const m = loadModel(openSource(root.dir)).model;
			const mine = m.findings.filter(f => f.subject === `container:${hex('victim')}`).map(f => f.code);
			assert.ok(
				mine.some(c => c.startsWith(code)),
				`${what}: expected ${code}, got ${mine.join(', ')}`,
			);
			const other = m.containers.find(c => c.id === hex('bystander'))!;
			assert.is(other.name, 'bystander');
			assert.is(other.imageId, image);
			assert.is(other.chain.length, 4);
			assert.ok(
				m.containers.some(c => c.id === hex('victim')),
				'the damaged container is still listed',
			);
		} finally {
			root.remove();
		}
	});
}

test('ids that are not hex, and path tricks in id files, are findings, never paths followed', () => {
	const {root} = host();
	try {
		const m = `image/overlay2/layerdb/mounts/${hex('victim')}`;
		fs.writeFileSync(root.p(`${m}/mount-id`), '../../../../etc');
		fs.writeFileSync(root.p(`${m}/parent`), 'sha256:not-hex');
		fs.mkdirSync(root.p('containers/not-a-container-id'));
		fs.writeFileSync(root.p(`containers/${hex('a-file')}`), 'x');
		const model = loadModel(openSource(root.dir)).model;
		const codes = model.findings.map(f => `${f.subject.split(':')[0]} ${f.code}`);
		assert.ok(codes.includes('container mount.field-invalid'));
		assert.ok(codes.includes('root entry.unexpected'));
		assert.ok(codes.includes('container file.not-a-dir'));
		const victim = model.containers.find(c => c.id === hex('victim'))!;
		assert.is(victim.mountId, null);
		assert.ok(victim.chain.every(e => e.path === null || !e.path.includes('..')));
		assert.is(model.containers.find(c => c.id === hex('bystander'))!.chain.length, 4);
	} finally {
		root.remove();
	}
});

test('terminal escapes in names, labels and commands are neutralised in text, exact in JSON', () => {
	const {root} = host();
	try {
		const f = root.p(`containers/${hex('victim')}/config.v2.json`);
		const cfg = JSON.parse(fs.readFileSync(f, 'utf8'));
		cfg.Name = '/evil\u001b[2J\u001b]0;pwned\u0007';
		cfg.Config.Image = 'img\u001b[31m';
		fs.writeFileSync(f, JSON.stringify(cfg));
		for (const args of [['tree'], ['ls']]) {
			const out = cli([...args, '--root', root.dir]).stdout;
			assert.not.match(out, /\u001b/, `${args[0]} prints no raw escape`);
			assert.match(out, /evil\\x1b\[2J\\x1b\]0;pwned\\x07/);
		}
		const json = JSON.parse(cli(['ls', '--json', '--root', root.dir]).stdout) as Array<{name: string; image: string}>;
		assert.ok(
			json.some(c => c.name === 'evil\u001b[2J\u001b]0;pwned\u0007' && c.image === 'img\u001b[31m'),
			'JSON keeps the exact value',
		);
	} finally {
		root.remove();
	}
});

test('permission denied on part of the root (as a non-root user): findings for it, results for the rest', () => {
	if (process.getuid?.() !== 0) return console.log('  (skipped: needs root to switch to an unprivileged user)');
	const {root} = host();
	try {
		// The tree is readable by others, but the victim's container directory and one layerdb mount are not.
		spawnSync('chmod', ['-R', 'a+rX', root.dir]);
		fs.chmodSync(root.dir, 0o755);
		fs.chmodSync(root.p(`containers/${hex('victim')}`), 0o700);
		fs.chmodSync(root.p(`image/overlay2/layerdb/mounts/${hex('victim')}`), 0o700);
		const r = spawnSync(process.execPath, [binForNobody(), 'model', '--root', root.dir], {
			uid: 65534,
			gid: 65534,
			encoding: 'utf8',
		});
		assert.is(r.status, 0, r.stderr);
		const m = JSON.parse(r.stdout) as {
			containers: Array<{id: string; name: string | null; chain: unknown[]}>;
			findings: Array<{subject: string; code: string}>;
		};
		const victim = m.findings.filter(f => f.subject === `container:${hex('victim')}`).map(f => f.code);
		assert.ok(victim.includes('file.unreadable'), victim.join(', '));
		const by = m.containers.find(c => c.id === hex('bystander'))!;
		assert.is(by.name, 'bystander');
		assert.is(by.chain.length, 4);
	} finally {
		root.remove();
	}
});

/**
 * The CLI as user 65534 can run it: the repository itself when every folder above it lets others
 * in, else a copy of what the built CLI needs (bin, build, package.json, chalk) in a temp folder.
 */
function binForNobody(): string {
	const bin = path.join(repo, 'bin', 'layerlens');
	const probe = spawnSync(
		process.execPath,
		['-e', `require('fs').accessSync(${JSON.stringify(path.join(repo, 'build', 'src', 'cli.js'))}, 4)`],
		{uid: 65534, gid: 65534},
	);
	if (probe.status === 0) return bin;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-nobody-'));
	for (const part of ['bin', 'build', 'package.json', 'node_modules/chalk']) {
		fs.mkdirSync(path.dirname(path.join(dir, part)), {recursive: true});
		spawnSync('cp', ['-a', path.join(repo, part), path.join(dir, part)]);
	}
	spawnSync('chmod', ['-R', 'a+rX', dir]);
	process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
	return path.join(dir, 'bin', 'layerlens');
}

// Size, shape, numbers, trailing data and ids, each on a copy of a real state (the sample, written
// by the real dockerd): no crash (exit 0, or 1 for `check` with errors), the finding on its object,
// and every other container reported as before.

async function ll(argv: string[]): Promise<{code: number; out: string; err: string}> {
	let out = '';
	let err = '';
	const code = await run(argv, {
		stdout: {write: (s: string) => (out += s)},
		stderr: {write: (s: string) => (err += s)},
		env: {},
	} as never);
	return {code, out, err};
}

/** Exit 0, or 1 (check with errors), or 2 with its one line where a command refuses an object (`files` on a broken chain). */
function survives(r: {code: number; err: string}, what: string, codes: readonly number[] = [0, 1]): void {
	assert.ok(codes.includes(r.code), `${what}: exit ${r.code}: ${r.err.slice(0, 400)}`);
	if (r.code === 2) assert.match(r.err, /^layerlens: [^\n]+\n$/, `${what}: one clear line`);
	assert.not.match(r.err, /internal error|Maximum call stack|\n\s+at /, what);
}

const summary = (m: Model, skip: readonly string[] = []) =>
	m.containers
		.filter(c => !skip.includes(c.id))
		.map(c => ({
			id: c.id,
			name: c.name,
			status: c.status,
			imageId: c.imageId,
			exitCode: c.exitCode,
			chain: c.chain.map(e => [e.role, e.cacheId, e.path]),
		}));

/** Every node's details and explanation in the explorer, two levels down, as text. */
function explorerText(m: Model): string {
	const tree = buildTree(m);
	const out: string[] = [];
	const walk = (nodes: readonly TreeNode[], depth: number) => {
		for (const node of nodes) {
			for (const l of [...detailLines(tree, node, () => null), ...explainLines(tree, node)])
				out.push(l.map(s => s.text).join(''));
			if (depth < 2) walk(tree.children(node), depth + 1);
		}
	};
	for (const tops of tree.tops.values()) walk(tops, 0);
	return out.join('\n');
}

let sampleModel: Model | undefined;
/** A copy of the sample, the model of the original, and the container "renamed" (it has a label). */
function realCopy() {
	const src = sampleRoot();
	sampleModel ??= loadModel(openSource(src)).model;
	return {dir: copyTree(src), before: sampleModel, victim: sampleModel.containers.find(c => c.name === 'renamed')!};
}

function edit(file: string, change: (text: string) => string): void {
	const was = fs.readFileSync(file, 'utf8');
	const now = change(was);
	assert.ok(now !== was, `the edit of ${file} changed it`);
	fs.writeFileSync(file, now);
}

const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

test('no spread of an array into a call in src/ and components/: push(...x) and Math.max(...x) overflow the stack past ~120 000 items', () => {
	const files: string[] = [];
	const walk = (d: string) => {
		for (const e of fs.readdirSync(d, {withFileTypes: true})) {
			if (e.isDirectory()) walk(path.join(d, e.name));
			else if (/\.tsx?$/.test(e.name)) files.push(path.join(d, e.name));
		}
	};
	walk(path.join(repo, 'src'));
	walk(path.join(repo, 'components'));
	const found: string[] = [];
	for (const f of files) {
		const sf = ts.createSourceFile(
			f,
			fs.readFileSync(f, 'utf8'),
			ts.ScriptTarget.Latest,
			true,
			f.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
		);
		const visit = (n: ts.Node): void => {
			if (ts.isSpreadElement(n) && (ts.isCallExpression(n.parent) || ts.isNewExpression(n.parent)))
				found.push(`${path.relative(repo, f)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
			ts.forEachChild(n, visit);
		};
		visit(sf);
	}
	assert.ok(files.length > 100, 'the walk saw the sources');
	assert.equal(found, [], 'use append(to, list) or maxOf(list) (src/append.ts)');
});

test('150 000 stray entries in each of containers/, layerdb/sha256, layerdb/mounts, imagedb/content/sha256 and volumes/: every command runs; 100 listed and one entry.list-capped per directory', async () => {
	const {dir, before} = realCopy();
	try {
		const dirs = [
			'containers',
			'image/overlay2/layerdb/sha256',
			'image/overlay2/layerdb/mounts',
			'image/overlay2/imagedb/content/sha256',
			'volumes',
		];
		for (const d of dirs)
			for (let i = 0; i < 150_000; i++) fs.closeSync(fs.openSync(path.join(dir, d, `stray-${i}`), 'w'));
		for (const argv of [['ls'], ['images'], ['tree'], ['check'], ['model']])
			survives(await ll([...argv, '--root', dir]), argv[0]!);
		const m = loadModel(openSource(dir)).model;
		for (const d of dirs) {
			assert.is(
				m.findings.filter(f => f.path?.startsWith(`${d}/stray-`)).length,
				100,
				`${d}: the first 100 one by one`,
			);
			const cap = m.findings.filter(f => f.code === 'entry.list-capped' && f.path === d);
			assert.is(cap.length, 1, `${d}: one summary`);
			assert.match(cap[0]!.message, /149900 more findings/);
		}
		// containers/ holds files, not directories: errors, and the summary keeps the worst severity.
		assert.is(m.findings.find(f => f.code === 'entry.list-capped' && f.path === 'containers')!.severity, 'error');
		assert.equal(summary(m), summary(before), 'every container as before');
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a label nested 5000 deep, and the same in hostconfig.json and in an image config: json.too-deep on the object, the rest loaded; inspect, --provenance and the explorer work', async () => {
	const {dir, before, victim} = realCopy();
	try {
		const c = `containers/${victim.id}`;
		edit(path.join(dir, c, 'config.v2.json'), t => t.replace('"org.example.k":"v"', `"org.example.k":${deep(5000)}`));
		edit(path.join(dir, c, 'hostconfig.json'), t => t.replace('"Binds":null', `"Binds":${deep(5000)}`));
		const image = before.images.find(i => i.id === victim.imageId)!;
		edit(path.join(dir, `image/overlay2/imagedb/content/sha256/${image.id.slice(7)}`), t =>
			t.replace('"config":{', `"config":{"Deep":${deep(5000)},`),
		);
		const m = loadModel(openSource(dir)).model;
		const mine = m.findings.filter(
			f => f.subject === `container:${victim.id}` && f.code === 'json.too-deep' && f.path === `${c}/config.v2.json`,
		);
		assert.is(mine.length, 1, 'config.v2.json');
		assert.match(mine[0]!.message, /1 value nested deeper than 100 levels not loaded/);
		assert.ok(
			m.findings.some(f => f.subject === `image:${image.id}` && f.code === 'json.too-deep'),
			'the image config',
		);
		const now = m.containers.find(x => x.id === victim.id)!;
		assert.is(now.name, victim.name);
		assert.is(now.chain.length, victim.chain.length);
		assert.equal(
			Object.keys(now.config!.Labels as object),
			['org.example.k'],
			'the label is there, loaded up to the limit',
		);
		for (const argv of [
			['inspect', victim.id],
			['inspect', victim.id, '--provenance'],
			['inspect', image.id],
			['tree'],
			['model'],
			['check'],
		])
			survives(await ll([...argv, '--root', dir]), argv.join(' '));
		const inspected = JSON.parse((await ll(['inspect', victim.id, '--json', '--root', dir])).out) as {
			findings: Array<{code: string; path?: string}>;
		};
		assert.ok(
			inspected.findings.some(f => f.code === 'json.too-deep' && f.path === `${c}/hostconfig.json`),
			'hostconfig.json',
		);
		assert.match(explorerText(m), /org\.example\.k/);
		assert.equal(summary(m, [victim.id]), summary(before, [victim.id]), 'the other containers as before');
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('"__proto__", "constructor" and "prototype" keys in Config and Labels are ordinary keys in inspect, --provenance, JSON and the explorer', async () => {
	const {dir, before, victim} = realCopy();
	try {
		edit(path.join(dir, `containers/${victim.id}/config.v2.json`), t =>
			t
				.replace('"org.example.k":"v"', '"__proto__":"p","constructor":"c","prototype":"x","org.example.k":"v"')
				.replace('"Hostname":', '"__proto__":{"polluted":1},"constructor":"k","Hostname":'),
		);
		for (const argv of [['inspect', victim.id], ['inspect', victim.id, '--provenance'], ['model'], ['tree']])
			survives(await ll([...argv, '--root', dir]), argv.join(' '));
		const prov = (await ll(['inspect', victim.id, '--provenance', '--root', dir])).out;
		for (const k of ['__proto__', 'constructor', 'prototype'])
			assert.match(prov, new RegExp(`${k}\\b`), `--provenance shows ${k}`);
		const j = JSON.parse((await ll(['inspect', victim.id, '--json', '--root', dir])).out) as {
			config: {Labels: Record<string, string>};
		};
		const labels = j.config.Labels;
		assert.ok(
			Object.hasOwn(labels, '__proto__') && Object.getOwnPropertyDescriptor(labels, '__proto__')!.value === 'p',
			'JSON keeps "__proto__" as a key',
		);
		assert.is(labels.constructor, 'c');
		assert.is(({} as Record<string, unknown>).polluted, undefined, 'no prototype touched');
		const m = loadModel(openSource(dir)).model;
		const text = explorerText(m);
		assert.match(text, /__proto__=p/);
		assert.match(text, /constructor=c/);
		assert.equal(summary(m), summary(before));
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('10⁶ Env entries: inspect and --provenance list them all, the explorer shows 200 and counts the rest', async () => {
	const {dir, victim} = realCopy();
	try {
		edit(path.join(dir, `containers/${victim.id}/config.v2.json`), t =>
			t.replace(/"Env":\[[^\]]*\]/, `"Env":${JSON.stringify(Array.from({length: 1_000_000}, (_, i) => `V${i}=x`))}`),
		);
		const prov = await ll(['inspect', victim.id, '--provenance', '--root', dir]);
		survives(prov, '--provenance');
		assert.match(prov.out, /V999999=x/);
		survives(await ll(['inspect', victim.id, '--root', dir]), 'inspect');
		assert.match(explorerText(loadModel(openSource(dir)).model), /… 999\d{3} more \(layerlens inspect lists all\)/);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('numbers exactly: an exit code beyond 2^53, a Pid of 1e400 and a RestartCount of -0.5 are container.field-invalid with their text; a host config number beyond 2^53 stays exact as its decimal text', async () => {
	const {dir, before, victim} = realCopy();
	try {
		const c = `containers/${victim.id}`;
		edit(path.join(dir, c, 'config.v2.json'), t =>
			t
				.replace('"ExitCode":0', '"ExitCode":9007199254740993')
				.replace('"Pid":0', '"Pid":1e400')
				.replace('"RestartCount":0', '"RestartCount":-0.5'),
		);
		edit(path.join(dir, c, 'hostconfig.json'), t => t.replace('"Memory":0', '"Memory":9007199254740993'));
		const layer = before.layers.find(l => l.driver === 'overlay2')!;
		fs.writeFileSync(
			path.join(dir, `image/overlay2/layerdb/sha256/${layer.chainId.slice(7)}/size`),
			'9007199254740993',
		);
		const m = loadModel(openSource(dir)).model;
		assert.ok(
			m.findings.some(
				f =>
					f.subject === `layer:${layer.chainId}` &&
					f.code === 'layer.field-invalid' &&
					f.message.includes('"9007199254740993"'),
			),
			'a layer size beyond 2^53 is said, not rounded',
		);
		assert.is(m.layers.find(l => l.chainId === layer.chainId)!.size, null);
		const invalid = m.findings
			.filter(f => f.subject === `container:${victim.id}` && f.code === 'container.field-invalid')
			.map(f => f.message);
		for (const raw of ['State.ExitCode is 9007199254740993', 'State.Pid is 1e400', 'RestartCount is -0.5'])
			assert.ok(
				invalid.some(x => x.includes(raw)),
				`${raw}: ${invalid.join(' | ')}`,
			);
		assert.is(m.containers.find(x => x.id === victim.id)!.exitCode, null, 'not a rounded number');
		const j = JSON.parse((await ll(['inspect', victim.id, '--json', '--root', dir])).out) as {
			hostConfig: Record<string, unknown>;
			exitCode: unknown;
			findings: Array<{code: string; message: string}>;
		};
		assert.is(j.hostConfig.Memory, '9007199254740993', 'the exact decimal text');
		assert.ok(j.findings.some(f => f.code === 'json.big-number' && f.message.includes('Memory = 9007199254740993')));
		assert.is(j.exitCode, null);
		const check = await ll(['check', '--root', dir]);
		assert.is(check.code, 1, 'an invalid field is an error');
		assert.equal(summary(m, [victim.id]), summary(before, [victim.id]));
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('trailing data: config.v2.json and hostconfig.json are read as dockerd reads them (the first value) with json.trailing-data; an image config, which dockerd json.Unmarshals, is json.invalid', async () => {
	const {dir, before, victim} = realCopy();
	try {
		const c = `containers/${victim.id}`;
		const tail = '{"Name":"/other","State":{}}garbage';
		fs.appendFileSync(path.join(dir, c, 'config.v2.json'), `\n${tail}`);
		fs.appendFileSync(path.join(dir, c, 'hostconfig.json'), 'xx');
		const loose = before.images.find(i => i.intermediate && i.containers.length === 0)!;
		fs.appendFileSync(path.join(dir, `image/overlay2/imagedb/content/sha256/${loose.id.slice(7)}`), '{}');
		const m = loadModel(openSource(dir)).model;
		const now = m.containers.find(x => x.id === victim.id)!;
		assert.equal(summary(m), summary(before), 'the container as dockerd loads it, the others as before');
		assert.is(now.name, victim.name);
		const trailing = m.findings.find(f => f.subject === `container:${victim.id}` && f.code === 'json.trailing-data')!;
		assert.is(trailing.severity, 'warning');
		assert.match(trailing.message, new RegExp(`${Buffer.byteLength(tail)} bytes follow the JSON value`));
		const j = JSON.parse((await ll(['inspect', victim.id, '--json', '--root', dir])).out) as {
			findings: Array<{code: string; path?: string; message: string}>;
		};
		assert.ok(
			j.findings.some(
				f => f.code === 'json.trailing-data' && f.path === `${c}/hostconfig.json` && f.message.includes('2 bytes'),
			),
		);
		const bad = m.findings.find(f => f.subject === `image:${loose.id}` && f.code === 'json.invalid')!;
		assert.match(bad.message, /2 bytes follow the JSON value; Docker's json.Unmarshal refuses the file/);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('ids used as paths: a cache-id, mount-id or init-id of "..", ".", "", "a/b" or with NUL is a finding with its text, and no path is built from it', async () => {
	const {dir, before} = realCopy();
	try {
		const bad = ['..', '.', '', 'a/b', 'a\u0000b', ' ..\n'];
		const layers = before.layers.filter(l => l.driver === 'overlay2').slice(0, bad.length);
		assert.is(layers.length, bad.length);
		layers.forEach((l, i) =>
			fs.writeFileSync(path.join(dir, `image/overlay2/layerdb/sha256/${l.chainId.slice(7)}/cache-id`), bad[i]!),
		);
		const [a, b, c2] = before.containers;
		const mounts = `image/overlay2/layerdb/mounts`;
		fs.writeFileSync(path.join(dir, mounts, a!.id, 'mount-id'), '..');
		fs.writeFileSync(path.join(dir, mounts, b!.id, 'init-id'), '.');
		fs.writeFileSync(path.join(dir, mounts, c2!.id, 'mount-id'), `${c2!.mountId}/../x`);
		const m = loadModel(openSource(dir)).model;
		for (const l of layers)
			assert.ok(
				m.findings.some(
					f =>
						f.subject === `layer:${l.chainId}` &&
						f.code === 'layer.field-invalid' &&
						/cache-id does not hold a directory id/.test(f.message),
				),
				l.chainId,
			);
		for (const x of [a!, b!, c2!])
			assert.ok(
				m.findings.some(f => f.subject === `container:${x.id}` && f.code === 'mount.field-invalid'),
				x.name ?? x.id,
			);
		const paths = [...m.containers.flatMap(x => x.chain.map(e => e.path)), ...m.layers.map(l => l.path)].filter(
			(p): p is string => p !== null,
		);
		assert.ok(paths.length > 0);
		for (const p of paths)
			assert.ok(
				p.split('/').every(part => part !== '' && part !== '.' && part !== '..' && !part.includes('\u0000')),
				`a path built from a bad id: ${JSON.stringify(p)}`,
			);
		for (const argv of [['tree'], ['check']]) survives(await ll([...argv, '--root', dir]), argv[0]!);
		survives(await ll(['files', a!.id, '--root', dir]), 'files', [2]);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('graph: a layer chain 200 000 parents long is walked in a loop, in the order the recursive walk gave', () => {
	const m = loadModel(openSource(sampleRoot())).model;
	const image = m.images.find(i => i.chainIds.length > 0)!;
	const layers = Array.from({length: 200_000}, (_, i) => ({
		...m.layers[0]!,
		driver: image.driver,
		chainId: `sha256:${hex(`l${i}`)}`,
		parent: i === 0 ? null : `sha256:${hex(`l${i - 1}`)}`,
	}));
	const g = buildGraph({...m, layers}, [], [{...image, chainIds: [layers.at(-1)!.chainId]}]);
	assert.is(g.nodes.filter(n => n.kind === 'layer').length, 200_000);
	const parents = g.edges.filter(e => e.label === 'parent');
	assert.is(parents.length, 199_999);
	assert.ok(parents[0]!.to.endsWith(hex('l0').slice(0, 12)), 'the deepest link first');
});

test('parseJson: the depth limit, numbers, trailing data, strings that look like structure', () => {
	const at = (t: string, maxDepth = 3) => {
		const r = parseJson(t, {maxDepth});
		if (!r.ok) throw new Error(r.error);
		return r.value;
	};
	assert.equal(at('[[[1]]]').value, [[[1]]], 'at the limit: loaded');
	assert.equal(at('[[[[1]]],2]').value, [[[null]], 2], 'one deeper: cut');
	assert.equal(at('[[[[1]]],2]').tooDeep, {count: 1, first: '[0][0][0]', limit: 3});
	assert.equal(at('{"a":"[[[[{{{{\\"]]]]"}').value, {a: '[[[[{{{{"]]]]'}, 'brackets in strings are not structure');
	const n = at('{"x":9007199254740993,"y":1e400,"z":-0.5,"w":9007199254740992,"v":[1.0]}');
	assert.equal(n.value, {x: '9007199254740993', y: '1e400', z: -0.5, w: 9007199254740992, v: [1]});
	assert.equal(n.inexact, [
		{path: 'x', text: '9007199254740993'},
		{path: 'y', text: '1e400'},
	]);
	assert.is(n.numberText.get('["v",0]'), '1.0');
	assert.is(at('{"a":1}  \n').trailing, 0);
	assert.is(at('{"a":1}\n{"b":2}').trailing, 7);
	assert.is(at('7 8').trailing, 1);
	assert.not.ok(parseJson('{"a":').ok);
	assert.not.ok(parseJson('').ok);
	assert.equal(at('{"__proto__":{"b":1}}').value, JSON.parse('{"__proto__":{"b":1}}'));
	const big = at('['.repeat(2_000_000) + ']'.repeat(2_000_000), 100);
	assert.is(big.tooDeep?.count, 1);
	// Seeded random JSON within the limits: the same value as JSON.parse, nothing trailing.
	const pick = rng(20261204);
	const chars = [
		'a',
		'"',
		'\\',
		'{',
		'}',
		'[',
		']',
		',',
		':',
		'\u0000',
		'\u001b',
		'é',
		'\u{1f600}',
		'\ud800',
		' ',
		'\n',
	];
	const value = (d: number): unknown => {
		const k = Math.floor(pick() * (d > 6 ? 4 : 7));
		if (k === 0) return Math.floor(pick() * 2 ** 40) * (pick() < 0.5 ? -1 : 1);
		if (k === 1) return (pick() - 0.5) * 10 ** Math.floor(pick() * 30 - 15);
		if (k === 2)
			return Array.from({length: Math.floor(pick() * 8)}, () => chars[Math.floor(pick() * chars.length)]).join('');
		if (k === 3) return [true, false, null][Math.floor(pick() * 3)];
		if (k === 4) return Array.from({length: Math.floor(pick() * 4)}, () => value(d + 1));
		return Object.fromEntries(Array.from({length: Math.floor(pick() * 4)}, () => [String(value(7)), value(d + 1)]));
	};
	for (let i = 0; i < 2000; i++) {
		const text = JSON.stringify(value(0), null, pick() < 0.3 ? 1 : undefined);
		const r = parseJson(text);
		assert.ok(r.ok, text);
		if (r.ok) {
			assert.equal(r.value.value, JSON.parse(text), text);
			assert.is(r.value.trailing, 0, text);
			assert.is(r.value.tooDeep, undefined, text);
		}
	}
});

test.run();
