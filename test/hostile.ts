import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../src/load.ts';
import {FakeRoot, chain, hex} from './helpers/fake-root.ts';
import {cli, repo} from './helpers/run-cli.ts';

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
	['binary garbage', (_, f) => fs.writeFileSync(f, Buffer.from(Array.from({length: 4096}, (_, i) => (i * 7919) % 256))), 'json.invalid'],
	['a JSON array instead of an object', (_, f) => fs.writeFileSync(f, '[1,2,3]'), 'json.shape'],
	['wrong types in the right fields', (_, f) => fs.writeFileSync(f, JSON.stringify({ID: 5, Name: ['x'], Image: {}, Driver: 7, State: 'running', Config: [1], Args: 'sh'})), 'container.field-invalid'],
	['a FIFO instead of a file', (_, f) => { fs.rmSync(f); spawnSync('mkfifo', [f]); }, 'file.not-a-file'],
	['a directory instead of a file', (_, f) => { fs.rmSync(f); fs.mkdirSync(f); }, 'file.not-a-file'],
	['a symlink out of the root', (_, f) => { fs.rmSync(f); fs.symlinkSync('/etc/passwd', f); }, 'file.symlink'],
];

for (const [what, damage, code] of cases) {
	test(`config.v2.json: ${what} is a finding on that container, the other is intact`, () => {
		const {root, image} = host();
		try {
			damage(root, root.p(`containers/${hex('victim')}/config.v2.json`));
			const m = loadModel(openSource(root.dir)).model;
			const mine = m.findings.filter(f => f.subject === `container:${hex('victim')}`).map(f => f.code);
			assert.ok(mine.some(c => c.startsWith(code)), `${what}: expected ${code}, got ${mine.join(', ')}`);
			const other = m.containers.find(c => c.id === hex('bystander'))!;
			assert.is(other.name, 'bystander');
			assert.is(other.imageId, image);
			assert.is(other.chain.length, 4);
			assert.ok(m.containers.some(c => c.id === hex('victim')), 'the damaged container is still listed');
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
		assert.ok(json.some(c => c.name === 'evil\u001b[2J\u001b]0;pwned\u0007' && c.image === 'img\u001b[31m'), 'JSON keeps the exact value');
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
		const r = spawnSync(process.execPath, [binForNobody(), 'model', '--root', root.dir], {uid: 65534, gid: 65534, encoding: 'utf8'});
		assert.is(r.status, 0, r.stderr);
		const m = JSON.parse(r.stdout) as {containers: Array<{id: string; name: string | null; chain: unknown[]}>; findings: Array<{subject: string; code: string}>};
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
	const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(repo, 'build', 'src', 'cli.js'))}, 4)`], {uid: 65534, gid: 65534});
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

test.run();
