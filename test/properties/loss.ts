// No fact lost without a word: damage to a copy of the real sample state (made by dockerd 20.10,
// overlay2) that used to be silent is a finding on its object, shown by model and check, and the
// commands whose output it changes say so. Each case is checked against the undamaged copy too,
// so that a test cannot pass on a root where nothing was damaged.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../../src/load.ts';
import {buildTimeline} from '../../src/timeline/events.ts';
import type {Finding} from '../../src/finding.ts';
import {copyTree, driverRoot} from '../helpers/fake-root.ts';
import {repo} from '../helpers/run-cli.ts';
import {type CliResult, cliIn} from '../helpers/run-cli.ts';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-loss-'));
// Others may enter (the unprivileged user's test reads a copy in it).
fs.chmodSync(work, 0o755);
process.on('exit', () => fs.rmSync(work, {recursive: true, force: true}));
execFileSync('tar', ['xzf', path.join(repo, 'sample', 'docker.tar.gz'), '-C', work]);
const base = path.join(work, 'docker');

/** The CLI in process on ROOT (test/helpers/run-cli.ts). */
const cli = (root: string, ...argv: string[]): Promise<CliResult> => cliIn(['-r', root, ...argv]);

const copies: string[] = [];
function copy(): string {
	const dir = copyTree(base, fs.mkdtempSync(path.join(work, 'copy-')));
	copies.push(dir);
	return dir;
}

function modelOf(root: string) {
	return loadModel(openSource(root)).model;
}

const codesOf = (fs: readonly Finding[], subject: string): string[] =>
	fs.filter(f => f.subject === subject).map(f => f.code);

/** The sample's facts: the busybox base layer (under every container), a container using it, its RW layer. */
const clean = modelOf(base);
const busybox = clean.layers.find(l => l.size !== null && l.size > 1_000_000 && l.parent === null)!;
const user = clean.containers.find(c => c.name === 'docker_test')!;
const app = clean.containers.find(c => c.name === 'app_exited')!;

test('the undamaged copy: no findings, files/diff/cat/export exit 0, no findings line on stderr', async () => {
	assert.ok(busybox !== undefined && user !== undefined && app !== undefined, 'the sample has what these tests damage');
	assert.equal(clean.findings, []);
	const root = copy();
	for (const argv of [
		['ls'],
		['images'],
		['tree'],
		['files', 'docker_test'],
		['diff', 'app_exited'],
		['cat', 'docker_test', '/bin/sh'],
	]) {
		const r = await cli(root, ...argv);
		assert.is(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
		assert.is(r.stderr, '', argv.join(' '));
	}
	const out = path.join(work, 'clean.tar');
	const e = await cli(root, 'export', 'docker_test', '-o', out);
	assert.is(e.code, 0, e.stderr);
	assert.ok(fs.statSync(out).size > 1_000_000);
});

const layerDamage: Array<[string, (dir: string) => void, string]> = [
	['deleted', d => fs.rmSync(d, {recursive: true}), 'layer.content-missing'],
	[
		'emptied',
		d => {
			fs.rmSync(d, {recursive: true});
			fs.mkdirSync(d);
		},
		'layer.content-empty',
	],
	[
		'replaced by a file',
		d => {
			fs.rmSync(d, {recursive: true});
			fs.writeFileSync(d, 'x');
		},
		'layer.content-missing',
	],
	[
		'replaced by a FIFO',
		d => {
			fs.rmSync(d, {recursive: true});
			execFileSync('mkfifo', [d]);
		},
		'layer.content-missing',
	],
	[
		'replaced by a symlink',
		d => {
			fs.rmSync(d, {recursive: true});
			fs.symlinkSync('/usr', d);
		},
		'layer.content-missing',
	],
];

for (const [what, damage, code] of layerDamage) {
	test(`overlay2 image layer diff/ ${what}: ${code} on the layer (model, check, tree); files, diff, cat exit 5 and say so; export refuses`, async () => {
		const root = copy();
		damage(path.join(root, busybox.path!));
		const m = modelOf(root);
		const subject = `layer:${busybox.chainId}`;
		assert.equal(codesOf(m.findings, subject), [code]);
		const layer = m.layers.find(l => l.chainId === busybox.chainId)!;
		assert.equal(layer.contentDamage?.path, busybox.path);
		const model = await cli(root, 'model');
		const json = JSON.parse(model.stdout) as {
			findings: Finding[];
			layers: Array<{chainId: string; contentDamage?: {state: string; path: string}}>;
		};
		assert.ok(json.findings.some(f => f.code === code && f.subject === subject));
		assert.is(json.layers.find(l => l.chainId === busybox.chainId)!.contentDamage?.path, busybox.path);
		const check = await cli(root, 'check', '--json');
		assert.is(check.code, 1);
		const report = JSON.parse(check.stdout) as {
			objects: Array<{subject: string; status: string; checks: Array<{check: string; findings: Finding[]}>}>;
		};
		const o = report.objects.find(x => x.subject === subject)!;
		assert.is(o.status, 'fail');
		assert.ok(
			o.checks.find(c => c.check === 'layer.dir')!.findings.some(f => f.code === code),
			'reported by layer.dir',
		);
		const tree = await cli(root, 'tree');
		assert.match(tree.stdout, /\(content (missing|emptied|not a directory|a symlink)\)/);
		assert.match(tree.stderr, /^layerlens: \d+ findings? \(1 error\); run `layerlens check`\n$/);
		// The layer itself is listed from its tar-split record, as docker recorded it, and says so.
		const fromRecord = await cli(root, 'files', busybox.chainId);
		assert.is(fromRecord.code, 0, fromRecord.stderr);
		assert.match(
			fromRecord.stderr,
			/listed from the layer's tar-split record: its content directory .* \[files\.from-tar-split\]/,
		);
		assert.match(fromRecord.stdout, / \/bin\/sh\b/);
		for (const argv of [
			['files', 'docker_test'],
			['diff', 'docker_test'],
			['cat', 'docker_test', '/bin/sh'],
		]) {
			const r = await cli(root, ...argv);
			assert.is(r.code, 5, `${argv.join(' ')}: ${r.stderr}`);
			assert.match(r.stderr, /\[files\.incomplete\]/, argv.join(' '));
		}
		const listed = await cli(root, 'files', 'docker_test', '--json');
		assert.is(listed.code, 5);
		assert.ok(
			(JSON.parse(listed.stdout) as {findings: Finding[]}).findings.some(
				f => f.code === 'files.incomplete' && f.path === busybox.path,
			),
		);
		const out = path.join(root, '..', `${path.basename(root)}.tar`);
		const e = await cli(root, 'export', 'docker_test', '-o', out);
		assert.is(e.code, 5);
		assert.match(e.stderr, /export refused/);
		assert.not.ok(fs.existsSync(out), 'nothing written');
		const toStdout = await cli(root, 'export', 'docker_test', '-o', '-');
		assert.is(toStdout.code, 5);
		assert.is(toStdout.stdout, '');
	});
}

test('an empty diff/ of a layer that records 0 bytes is no finding (an empty layer is legitimate)', () => {
	const root = copy();
	const empty = clean.layers.find(l => l.size === 0 && l.path !== null)!;
	assert.ok(empty !== undefined);
	const dir = path.join(root, empty.path!);
	for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), {recursive: true});
	assert.equal(modelOf(root).findings, []);
});

test("a container's RW diff/ a symlink and its init diff/ a file: container findings; diff exits 5; an empty RW or init diff/ is none", async () => {
	const root = copy();
	const rw = path.join(root, 'overlay2', app.mountId!, 'diff');
	fs.rmSync(rw, {recursive: true});
	fs.symlinkSync('/etc', rw);
	const init = path.join(root, 'overlay2', app.initId!, 'diff');
	fs.rmSync(init, {recursive: true});
	fs.writeFileSync(init, '');
	const m = modelOf(root);
	assert.equal(codesOf(m.findings, `container:${app.id}`), [
		'container.layer-content-missing',
		'container.layer-content-missing',
	]);
	const c = m.containers.find(x => x.id === app.id)!;
	assert.equal(c.chain.map(e => e.contentDamage?.state ?? null).slice(0, 2), ['symlink', 'not-a-dir']);
	const r = await cli(root, 'diff', 'app_exited');
	assert.is(r.code, 5);
	assert.match(r.stderr, /its RW layer's content directory .* is a symlink/);
	assert.match(r.stderr, /its init layer's content directory .* is not a directory/);
	// An empty RW layer is normal (a container that changed nothing); nothing records what an init layer held.
	const again = copy();
	for (const id of [user.mountId!, user.initId!]) {
		const d = path.join(again, 'overlay2', id, 'diff');
		for (const e of fs.readdirSync(d)) fs.rmSync(path.join(d, e), {recursive: true});
	}
	assert.equal(modelOf(again).findings, []);
});

test('legacy overlay: an image layer root/ emptied, a container upper/ deleted', () => {
	const {root, layers, cid, mount} = driverRoot('overlay');
	try {
		for (const l of layers) root.write(`overlay/${l.cacheId}/root/bin/sh`, 'x'.repeat(100));
		for (const id of [mount, `${mount}-init`]) {
			for (const d of ['upper', 'work']) fs.mkdirSync(root.p(`overlay/${id}/${d}`), {recursive: true});
			root.write(`overlay/${id}/lower-id`, layers[1]!.cacheId);
		}
		assert.equal(modelOf(root.dir).findings, []);
		fs.rmSync(root.p(`overlay/${layers[1]!.cacheId}/root/bin`), {recursive: true});
		fs.rmSync(root.p(`overlay/${mount}/upper`), {recursive: true});
		const m = modelOf(root.dir);
		assert.equal(m.findings.map(f => [f.code, f.path]).sort(), [
			['container.layer-content-missing', `overlay/${mount}/upper`],
			['layer.content-empty', `overlay/${layers[1]!.cacheId}/root`],
		]);
		assert.ok(m.findings.some(f => f.subject === `container:${cid}`));
	} finally {
		root.remove();
	}
});

const hostDamage: Array<[string, (file: string) => void, string, string]> = [
	[
		'a symlink',
		f => {
			fs.rmSync(f);
			fs.symlinkSync('/etc/passwd', f);
		},
		'file.symlink',
		'warning',
	],
	['truncated', f => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 40)), 'json.invalid', 'error'],
	[
		'garbage',
		f => fs.writeFileSync(f, Buffer.from(Array.from({length: 2048}, (_, i) => (i * 7919) % 256))),
		'json.invalid',
		'error',
	],
	[
		'a FIFO',
		f => {
			fs.rmSync(f);
			execFileSync('mkfifo', [f]);
		},
		'file.not-a-file',
		'error',
	],
	['deleted', f => fs.rmSync(f), 'container.hostconfig-missing', 'warning'],
];

for (const [what, damage, code, severity] of hostDamage) {
	test(`hostconfig.json ${what}: ${code} (${severity}) in model and check, not only inspect`, async () => {
		const root = copy();
		damage(path.join(root, 'containers', app.id, 'hostconfig.json'));
		const model = await cli(root, 'model');
		assert.is(model.code, 0);
		const found = (JSON.parse(model.stdout) as {findings: Finding[]}).findings.filter(
			f => f.subject === `container:${app.id}`,
		);
		assert.equal(
			found.map(f => [f.code, f.severity]),
			[[code, severity]],
		);
		const check = await cli(root, 'check');
		assert.match(check.stdout, new RegExp(code.replace('.', '\\.')));
		assert.is(check.code, severity === 'error' ? 1 : 0);
	});
}

test("symlinks in a container's directory (hostname, hosts, resolv.conf, checkpoints, mounts/shm) are findings with their targets; never followed", () => {
	const root = copy();
	const dir = path.join(root, 'containers', app.id);
	for (const name of ['hostname', 'hosts', 'resolv.conf', 'checkpoints']) {
		fs.rmSync(path.join(dir, name), {recursive: true, force: true});
		fs.symlinkSync(`/etc/${name}`, path.join(dir, name));
	}
	fs.mkdirSync(path.join(dir, 'mounts'), {recursive: true});
	fs.rmSync(path.join(dir, 'mounts', 'shm'), {recursive: true, force: true});
	fs.symlinkSync('/dev/shm', path.join(dir, 'mounts', 'shm'));
	const found = modelOf(root).findings.filter(f => f.subject === `container:${app.id}`);
	assert.equal(
		found.map(f => f.path).sort(),
		['checkpoints', 'hostname', 'hosts', 'mounts/shm', 'resolv.conf'].map(n => `containers/${app.id}/${n}`).sort(),
	);
	assert.ok(found.every(f => f.code === 'container.symlink' && f.severity === 'warning'));
	assert.match(found.find(f => f.path!.endsWith('/hosts'))!.message, /"\/etc\/hosts"/);
});

test("a container's RW link file as a symlink, and its l/ entry as a file: driver findings in check", async () => {
	const root = copy();
	const linkFile = path.join(root, 'overlay2', app.mountId!, 'link');
	fs.rmSync(linkFile);
	fs.symlinkSync('/etc/passwd', linkFile);
	const other = clean.containers.find(c => c.name === 'app_stopped')!;
	const short = fs.readFileSync(path.join(base, 'overlay2', other.mountId!, 'link'), 'utf8').trim();
	fs.rmSync(path.join(root, 'overlay2', 'l', short));
	fs.writeFileSync(path.join(root, 'overlay2', 'l', short), 'x');
	const r = await cli(root, 'check', '--json');
	const report = JSON.parse(r.stdout) as {findings: Finding[]};
	const mine = (id: string) =>
		report.findings.filter(f => f.subject === `container:${id}`).map(f => `${f.severity} ${f.code} ${f.path}`);
	assert.equal(mine(app.id), [`warning file.symlink overlay2/${app.mountId}/link`]);
	assert.equal(mine(other.id), [`warning driver.link-broken overlay2/l/${short}`]);
});

const logPath = (root: string, id: string, suffix = '') => path.join(root, 'containers', id, `${id}-json.log${suffix}`);

test('logs: a symlink or FIFO is log.unreadable in model and check, and on stderr for timeline --logs', async () => {
	const root = copy();
	const a = clean.containers.find(c => c.name === 'renamed')!;
	const b = clean.containers.find(c => c.name === 'paused_c')!;
	fs.rmSync(logPath(root, a.id));
	fs.symlinkSync('/etc/passwd', logPath(root, a.id));
	fs.rmSync(logPath(root, b.id));
	execFileSync('mkfifo', [logPath(root, b.id)]);
	const m = modelOf(root);
	assert.equal(codesOf(m.findings, `container:${a.id}`), ['log.unreadable']);
	assert.equal(codesOf(m.findings, `container:${b.id}`), ['log.unreadable']);
	const check = await cli(root, 'check');
	assert.match(check.stdout, /log\.unreadable/);
	const t = await cli(root, 'timeline', '--logs', '--format', 'csv');
	assert.is(t.code, 0);
	assert.is((t.stderr.match(/\[log\.unreadable\]/g) ?? []).length, 2, t.stderr);
	assert.match(t.stderr, /findings \(2 warnings\); run `layerlens check`\n$/);
	assert.not.match(t.stdout, /root:x:0/, 'the symlink is not followed');
});

test('logs: over 64 MiB read whole; more lines than the cap is a finding naming the cap and what was left out; a rotated .gz is read; a damaged .gz is a finding', async () => {
	const root = copy();
	const line = (i: number) =>
		`${JSON.stringify({log: `line ${i} ${'x'.repeat(400)}\n`, stream: 'stdout', time: `2026-11-29T08:30:00.${String(i).padStart(9, '0')}Z`})}\n`;
	// ~70 MiB: more than the 64 MiB the timeline used to read at most.
	const big = fs.openSync(logPath(root, app.id), 'w');
	let chunk = '';
	for (let i = 0; i < 170_000; i++) {
		chunk += line(i);
		if (chunk.length > 1 << 22) {
			fs.writeSync(big, chunk);
			chunk = '';
		}
	}
	fs.writeSync(big, chunk);
	fs.closeSync(big);
	assert.ok(fs.statSync(logPath(root, app.id)).size > 64 * 1024 * 1024);
	execFileSync('sh', ['-c', `printf '%s' '${line(1).trim()}' | gzip > '${logPath(root, app.id, '.1.gz')}'`]);
	const findings: Finding[] = [];
	const events = await buildTimeline(modelOf(root), openSource(root), {files: false, logs: true, findings});
	const lines = events.filter(e => e.kind === 'log.line' && e.subject === `container:${app.id}`);
	assert.is(lines.length, 100_000);
	const capped = findings.find(f => f.code === 'timeline.logs-capped')!;
	assert.ok(capped !== undefined, findings.map(f => f.code).join(', '));
	assert.match(
		capped.message,
		/at most 100000 log lines per container.*after line 100000; the rest of that file and 1 more log file \(.*-json\.log\.1\.gz\)/,
	);
	// With room for all: every line of the 70 MiB file, and the rotated one.
	const all: Finding[] = [];
	const every = await buildTimeline(modelOf(root), openSource(root), {
		files: false,
		logs: true,
		maxPerContainer: 1_000_000,
		findings: all,
	});
	assert.is(every.filter(e => e.kind === 'log.line' && e.subject === `container:${app.id}`).length, 170_001);
	assert.ok(
		every.some(e => e.source.endsWith('-json.log.1.gz')),
		'the rotated file is read',
	);
	assert.equal(
		all.map(f => f.code),
		[],
	);
	// A gzip cut short: what was read is kept, the rest is a finding.
	const gz = fs.readFileSync(logPath(root, app.id, '.1.gz'));
	fs.writeFileSync(logPath(root, app.id, '.1.gz'), gz.subarray(0, gz.length - 12));
	const damaged: Finding[] = [];
	await buildTimeline(modelOf(root), openSource(root), {
		files: false,
		logs: true,
		maxPerContainer: 1_000_000,
		findings: damaged,
	});
	assert.equal(
		damaged.map(f => f.code),
		['log.damaged'],
	);
});

test('a gzip bomb in a rotated log (1 GiB of zeros in 1 MB) takes bounded memory and is a finding', async () => {
	const root = copy();
	execFileSync('sh', ['-c', `head -c 1073741824 /dev/zero | gzip -1 > '${logPath(root, app.id, '.1.gz')}'`]);
	assert.ok(fs.statSync(logPath(root, app.id, '.1.gz')).size < 8 * 1024 * 1024);
	const before = process.memoryUsage().rss;
	const findings: Finding[] = [];
	await buildTimeline(modelOf(root), openSource(root), {files: false, logs: true, findings});
	assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024, 'bounded memory');
	assert.equal(
		findings.map(f => f.code),
		['log.lines-skipped'],
	);
});

test('timeline --files: the per-container cap is a finding saying what was not walked', async () => {
	const root = copy();
	const findings: Finding[] = [];
	const events = await buildTimeline(modelOf(root), openSource(root), {
		files: true,
		logs: false,
		maxPerContainer: 2,
		findings,
	});
	assert.ok(events.filter(e => e.kind === 'rwfile.modified' && e.subject === `container:${app.id}`).length <= 2);
	const capped = findings.filter(f => f.code === 'timeline.files-capped' && f.subject === `container:${app.id}`);
	assert.is(capped.length, 1, findings.map(f => f.message).join('\n'));
	assert.match(capped[0]!.message, /at most 2 entries per container/);
	const none: Finding[] = [];
	await buildTimeline(modelOf(root), openSource(root), {files: true, logs: false, findings: none});
	assert.equal(none, []);
});

test('ls and images: one findings line after the table, only on stderr; --json carries the findings instead', async () => {
	const root = copy();
	fs.rmSync(path.join(root, busybox.path!), {recursive: true});
	const before = await cli(base, 'images');
	const images = await cli(root, 'images');
	assert.is(images.code, 0);
	assert.is(images.stdout, before.stdout, 'the table itself is unchanged');
	assert.is(images.stderr, 'layerlens: 1 finding (1 error); run `layerlens check`\n');
	// images --json is docker's array (no findings in it): the line is on stderr there too; tree --json carries them.
	const json = await cli(root, 'images', '--json');
	assert.is(json.stderr, images.stderr);
	assert.ok(Array.isArray(JSON.parse(json.stdout)));
	const tree = await cli(root, 'tree', '--json');
	assert.is(tree.stderr, '');
	assert.ok(tree.stdout.includes('layer.content-missing'));
	// ls reads only container configs and tags: what it read is counted, not what it did not read.
	const ls = await cli(root, 'ls');
	assert.is(ls.stderr, '');
	fs.writeFileSync(path.join(root, 'containers', app.id, 'config.v2.json'), '{');
	assert.is((await cli(root, 'ls')).stderr, 'layerlens: 1 finding (1 error); run `layerlens check`\n');
});

test('as a user who cannot read containers/: ls says so on stderr (an error finding on the root), model has it', () => {
	if (process.getuid?.() !== 0) return console.log('  (skipped: needs root to switch to an unprivileged user)');
	const bin = path.join(repo, 'bin', 'layerlens');
	const probe = spawnSync(process.execPath, [bin, '--version'], {uid: 65534, gid: 65534, encoding: 'utf8'});
	if (probe.status !== 0) return console.log(`  (skipped: user 65534 cannot run ${bin}: ${probe.stderr.trim()})`);
	const root = copy();
	spawnSync('chmod', ['-R', 'a+rX', root]);
	fs.chmodSync(root, 0o755);
	fs.chmodSync(path.join(root, 'containers'), 0o700);
	const ls = spawnSync(process.execPath, [bin, 'ls', '-r', root], {uid: 65534, gid: 65534, encoding: 'utf8'});
	assert.is(ls.status, 0, ls.stderr);
	assert.is(ls.stdout.trim().split('\n').length, 1, 'only the header');
	// The error, and the door's word that access times may change (not root: no private read-only mount).
	assert.is(ls.stderr, 'layerlens: 2 findings (1 error, 1 warning); run `layerlens check`\n');
	const model = spawnSync(process.execPath, [bin, 'model', '-r', root], {uid: 65534, gid: 65534, encoding: 'utf8'});
	const m = JSON.parse(model.stdout) as {findings: Finding[]};
	assert.ok(
		m.findings.some(
			f => f.subject === 'root' && f.severity === 'error' && f.code === 'file.unreadable' && f.path === 'containers',
		),
		model.stdout,
	);
	assert.ok(
		m.findings.some(f => f.subject === 'root' && f.severity === 'warning' && f.code === 'source.atimes'),
		model.stdout,
	);
	// An unreadable layer diff/ is layer.content-unreadable.
	fs.chmodSync(path.join(root, 'containers'), 0o755);
	fs.chmodSync(path.join(root, busybox.path!), 0o700);
	const m2 = JSON.parse(
		spawnSync(process.execPath, [bin, 'model', '-r', root], {uid: 65534, gid: 65534, encoding: 'utf8'}).stdout,
	) as {findings: Finding[]};
	assert.ok(
		m2.findings.some(f => f.code === 'layer.content-unreadable' && f.subject === `layer:${busybox.chainId}`),
		JSON.stringify(m2.findings.map(f => f.code)),
	);
	// An unreadable log file is log.unreadable.
	fs.chmodSync(logPath(root, app.id), 0o600);
	const m3 = JSON.parse(
		spawnSync(process.execPath, [bin, 'model', '-r', root], {uid: 65534, gid: 65534, encoding: 'utf8'}).stdout,
	) as {findings: Finding[]};
	assert.ok(
		m3.findings.some(f => f.code === 'log.unreadable' && f.subject === `container:${app.id}`),
		JSON.stringify(m3.findings.map(f => f.code)),
	);
});

test.run();
