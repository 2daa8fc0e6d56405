import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {cli, cliIn, repo} from '../helpers/run-cli.ts';
import {matchSnapshot} from '../helpers/snapshot.ts';
import {realRoot, realTgz} from '../helpers/real-fixtures.ts';

const noTrace = (s: string) => assert.not.match(s, /\n\s+at .+\(.*:\d+:\d+\)/, 'no stack trace');

test('--help and --version', () => {
	const h = cli(['--help']);
	assert.is(h.code, 0);
	assert.match(h.stdout, /Usage: layerlens/);
	for (const c of ['tree', 'ls', 'images', 'inspect', 'model']) assert.match(h.stdout, new RegExp(`\\n  ${c}`));
	const v = cli(['--version']);
	assert.is(v.code, 0);
	assert.is(v.stdout, `layerlens ${JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version}\n`);
});

test('usage errors: one line on stderr, exit 2, no stack trace', () => {
	for (const args of [
		['frobnicate'],
		['--bogus'],
		['inspect'],
		['ls', 'extra'],
		['--root'],
		['ls', '--deep'],
		['timeline', '--format', 'xml'],
		['check', '--fail-on', 'panic'],
		['--sample', '--root', '/x'],
	]) {
		const r = cli(args);
		assert.is(r.code, 2, args.join(' '));
		assert.is(r.stdout, '');
		assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
		assert.match(r.stderr, /^layerlens: /);
		noTrace(r.stderr);
	}
});

test('a missing root, a file, and a directory that is not a Docker root: exit 2 with one clear line', () => {
	const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-empty-'));
	const file = path.join(empty, 'f');
	fs.writeFileSync(file, 'x');
	try {
		const cases: Array<[string, RegExp]> = [
			['/nonexistent/docker', /no such directory or archive/],
			[file, /not a tar archive/],
			[empty, /not a Docker root/],
		];
		for (const [root, message] of cases) {
			const r = cli(['ls', '--root', root]);
			assert.is(r.code, 2, root);
			assert.match(r.stderr, message);
			assert.is(r.stderr.trim().split('\n').length, 1);
		}
	} finally {
		fs.rmSync(empty, {recursive: true});
	}
});

test('inspect: unknown, too short and ambiguous refs are usage errors', () => {
	const root = realRoot('aufs');
	if (root === null) return;
	assert.match(
		cli(['inspect', 'nothing-like-this', '--root', root]).stderr,
		/no container, image, layer, volume or network matches/,
	);
	assert.match(cli(['inspect', 'dd3', '--root', root]).stderr, /at least 4 characters/);
	// Every container in this tree shares the image layer; "sha256:" alone is no prefix.
	const r = cli(['inspect', 'sha256:', '--root', root]);
	assert.is(r.code, 2);
});

test('real aufs tree: tree, ls and images text match their snapshots; JSON parses', () => {
	const root = realRoot('aufs');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const strip = (s: string) => s.replaceAll(root, '<root>');
	for (const [cmd, snap] of [
		['tree', 'text/aufs-tree.txt'],
		['ls', 'text/aufs-ls.txt'],
		['images', 'text/aufs-images.txt'],
	] as const) {
		const r = cli([cmd, '--root', root]);
		assert.is(r.code, 0, r.stderr);
		// One info finding (a volume a container mounts is not in this copy): one line after the table; ls does not read volumes.
		assert.is(r.stderr, cmd === 'ls' ? '' : 'layerlens: 1 finding (information only); run `layerlens check`\n');
		assert.not.match(r.stdout, /\u001b\[/, 'no colour when stdout is not a terminal');
		matchSnapshot(snap, strip(r.stdout));
	}
	const model = JSON.parse(cli(['model', '--root', root]).stdout);
	assert.is(model.schema, 1);
	assert.is(model.root, root);
	assert.is(model.containers.length, 7);
	const ls = JSON.parse(cli(['ls', '--json', '--root', root]).stdout);
	assert.is(ls.length, 7);
	assert.is(ls[0].created > ls[6].created, true, 'newest first');
	const images = JSON.parse(cli(['images', '--json', '--root', root]).stdout);
	assert.equal(images[0].tags, ['busybox:latest']);
	const tree = JSON.parse(cli(['tree', '--json', 'tiny_yalow', '--root', root]).stdout);
	assert.equal(
		tree.containers.map((c: {name: string}) => c.name),
		['tiny_yalow'],
	);
});

test('real overlay2 tree: tree and images snapshots; inspect by name, id prefix, tag and cache id', () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const strip = (s: string) => s.replaceAll(root, '<root>');
	matchSnapshot('text/overlay2-tree.txt', strip(cli(['tree', '--root', root]).stdout));
	matchSnapshot('text/overlay2-ls.txt', strip(cli(['ls', '--root', root]).stdout));
	matchSnapshot('text/overlay2-images.txt', strip(cli(['images', '--root', root]).stdout));
	const byName = JSON.parse(cli(['inspect', 'festive_perlman', '--root', root]).stdout);
	assert.is(byName.kind, 'container');
	assert.is(byName.id, '8e8b7f23eb7cbd4dfe7e91646ddd0e0f524218e25d50113559f078dfb2690206');
	assert.is(byName.config.Image, 'busybox');
	assert.is(JSON.parse(cli(['inspect', '8e8b', '--root', root]).stdout).id, byName.id);
	assert.is(JSON.parse(cli(['inspect', '/festive_perlman', '--root', root]).stdout).id, byName.id);
	const img = JSON.parse(cli(['inspect', 'busybox', '--root', root]).stdout);
	assert.is(img.kind, 'image');
	assert.equal(img.tags, ['busybox:latest']);
	const layer = JSON.parse(cli(['inspect', img.chainIds[0], '--root', root]).stdout);
	assert.is(layer.kind, 'layer');
	assert.is(JSON.parse(cli(['inspect', layer.cacheId, '--root', root]).stdout).chainId, layer.chainId);
});

test('colour only on a terminal, and never with NO_COLOR', () => {
	// Without a terminal there is no colour; the unit tests in text.ts check colour codes themselves.
	const root = realRoot('aufs');
	if (root === null) return;
	assert.not.match(cli(['tree', '--root', root], {FORCE_COLOR: '1'}).stdout, /\u001b\[/);
	assert.not.match(cli(['tree', '--root', root], {NO_COLOR: '1'}).stdout, /\u001b\[/);
});

test('--sample reads the shipped sample; --or-sample (npm start) says on stderr which root it reads', () => {
	const r = cli(['ls', '--sample']);
	assert.is(r.code, 0, r.stderr);
	assert.match(r.stdout, /docker_test/);
	assert.is(r.stderr, '');
	const start = cli(['ls', '--or-sample']);
	assert.is(start.code, 0, start.stderr);
	assert.is(start.stderr.trim().split('\n').length, 1);
	if (fs.existsSync('/var/lib/docker')) assert.match(start.stderr, /reading \/var\/lib\/docker/);
	else {
		assert.match(start.stderr, /no readable \/var\/lib\/docker here; showing the sample state/);
		assert.match(start.stdout, /docker_test/);
	}
});

test('every command gives the same answer on the archive as on the extracted directory (both real trees)', async () => {
	// In this process: what is compared is the two roots' output, not the process.
	for (const name of ['aufs', 'overlay2'] as const) {
		const dir = realRoot(name);
		if (dir === null) return;
		const tgz = realTgz(name)!;
		const model = JSON.parse((await cliIn(['model', '--root', dir])).stdout) as {
			containers: Array<{name: string}>;
			images: Array<{id: string}>;
		};
		for (const argv of [
			['tree'],
			['tree', '--json'],
			['ls'],
			['ls', '--json'],
			['images'],
			['images', '--json'],
			['model'],
			['inspect', model.containers[0]!.name],
			['inspect', model.images[0]!.id],
			['timeline', '--json', '--files', '--logs'],
		]) {
			const a = await cliIn([...argv, '--root', dir]);
			const b = await cliIn([...argv, '--root', tgz]);
			assert.is(b.code, a.code, `${name} ${argv.join(' ')}`);
			const norm = (s: string, root: string) => s.replaceAll(root, '<root>');
			assert.fixture(norm(b.stdout, tgz), norm(a.stdout, dir), `${name} ${argv.join(' ')}`);
		}
	}
});

test('check: exit 0 below --fail-on, 1 at or above it; --json for scripts', () => {
	const clean = cli(['check', '--sample']);
	assert.is(clean.code, 0, clean.stderr);
	assert.match(clean.stdout, /0 errors, 0 warnings/);
	// The sample has a dangling image: an info finding.
	assert.is(cli(['check', '--sample', '--fail-on', 'info']).code, 1);
	assert.is(cli(['check', '--sample', '--fail-on', 'warning']).code, 0);
	const j = JSON.parse(cli(['check', '--sample', '--json']).stdout) as {
		schema: number;
		findings: Array<{code: string}>;
	};
	assert.is(j.schema, 1);
	assert.ok(j.findings.some(f => f.code === 'image.dangling'));
});

test('timeline: table, JSON Lines and CSV through the CLI', () => {
	const table = cli(['timeline', '--sample']);
	assert.is(table.code, 0, table.stderr);
	assert.match(table.stdout, /^TIME \(UTC\)/);
	assert.match(table.stdout, /Container Created/);
	const jsonl = cli(['timeline', '--sample', '--logs', '--json'])
		.stdout.trim()
		.split('\n')
		.map(l => JSON.parse(l) as {kind: string});
	assert.ok(jsonl.some(e => e.kind === 'log.line'));
	const csv = cli(['timeline', '--sample', '--format', 'csv']).stdout;
	assert.ok(csv.startsWith('message,datetime,timestamp_desc,timestamp,'));
});

test.run();
