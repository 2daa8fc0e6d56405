import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {cli, repo} from '../helpers/run-cli.ts';

// What is printed from hostile evidence, end to end on a copy of a real overlay2 state: a
// container name holding an OSC 52 clipboard write, C1, bidi, zero-width, tag and other invisible
// characters, and a 200 000-character image tag. Text, CSV and graphs show escapes; every JSON
// output keeps the exact values with those characters written as \uXXXX.

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-escape-'));
process.on('exit', () => fs.rmSync(base, {recursive: true, force: true}));
execFileSync('tar', [
	'--xattrs',
	'--xattrs-include=*',
	'--numeric-owner',
	'-xpzf',
	path.join(repo, 'sample', 'docker.tar.gz'),
	'-C',
	base,
]);
const root = path.join(base, 'docker');

const osc52 = '\u001b]52;c;ZWNobyBwd25lZA==\u0007';
const hidden = '\u009b31m\u202e\u2066\u200b\u061c\u00ad\u180e\u206a\u206f\ufff9\ufffb\u3164\u{e0041}\u2028';
const evilName = `evil${osc52}${hidden}"quote\\name`;
const longTag = `local/${'a'.repeat(200_000)}:1`;

// The container `renamed` gets the hostile name; image local/busybox:1 gets a huge tag too.
const cdir = path.join(root, 'containers');
let containerId = '';
for (const id of fs.readdirSync(cdir)) {
	const f = path.join(cdir, id, 'config.v2.json');
	const cfg = JSON.parse(fs.readFileSync(f, 'utf8')) as {Name: string};
	if (cfg.Name !== '/renamed') continue;
	cfg.Name = `/${evilName}`;
	fs.writeFileSync(f, JSON.stringify(cfg));
	containerId = id;
}
const repos = path.join(root, 'image', 'overlay2', 'repositories.json');
const r = JSON.parse(fs.readFileSync(repos, 'utf8')) as {Repositories: Record<string, Record<string, string>>};
const someImage = Object.values(r.Repositories['local/busybox']!)[0]!;
r.Repositories[longTag.slice(0, longTag.lastIndexOf(':'))] = {[longTag]: someImage};
fs.writeFileSync(repos, JSON.stringify(r));

/** Characters no output may carry raw (C0 but newline, DEL, C1, format, invisible, separators, surrogates). */
const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Cs}]/u;

function noRaw(text: string, what: string): void {
	const m = raw.exec(text);
	assert.is(m, null, `${what}: raw U+${m?.[0].codePointAt(0)?.toString(16)} at ${m?.index}`);
}

function ok(args: string[]): string {
	const res = cli([...args, '--root', root]);
	assert.is(res.code, 0, `${args.join(' ')}: ${res.stderr.slice(0, 500)}`);
	noRaw(res.stderr, `${args.join(' ')} (stderr)`);
	return res.stdout;
}

test('text outputs show every hostile character as an escape', () => {
	assert.ok(containerId !== '');
	for (const args of [
		['ls'],
		['tree'],
		['images'],
		['inspect', containerId, '--provenance'],
		['timeline'],
		['check'],
	]) {
		const out = args[0] === 'check' ? (cli([...args, '--root', root]).stdout as string) : ok(args);
		noRaw(out, args.join(' '));
	}
	for (const args of [
		['files', containerId],
		['diff', containerId],
		['tree', '--explain'],
		['inspect', containerId, '--explain'],
	])
		noRaw(ok(args), args.join(' '));
	const cmp = cli(['compare', path.join(repo, 'sample', 'docker.tar.gz'), root]);
	assert.ok(cmp.code === 0, cmp.stderr);
	noRaw(cmp.stdout, 'compare');
	assert.ok(cmp.stdout.includes(String.raw`evil\x1b]52`), 'compare shows the renamed container, escaped');
	const cmpJson = cli(['compare', path.join(repo, 'sample', 'docker.tar.gz'), root, '--json']);
	noRaw(cmpJson.stdout, 'compare --json');
	assert.ok(
		JSON.stringify(JSON.parse(cmpJson.stdout)).includes(JSON.stringify(evilName).slice(1, -1)),
		'compare --json keeps the exact name',
	);
	assert.ok(
		ok(['ls']).includes(
			String.raw`evil\x1b]52;c;ZWNobyBwd25lZA==\x07\u009b31m\u202e\u2066\u200b\u061c\u00ad\u180e\u206a\u206f\ufff9\ufffb\u3164\u{e0041}\u2028"quote\name`,
		),
	);
});

test('timeline CSV: cells through the escaper (no OSC 52 runs when it is printed), formula guard kept', () => {
	const csv = ok(['timeline', '--format', 'csv']);
	noRaw(csv.replaceAll('\r\n', '\n'), 'csv');
	assert.ok(csv.includes('evil\\x1b]52;c;ZWNobyBwd25lZA==\\x07'), 'the name is shown escaped');
	assert.ok(!csv.includes('\u001b') && !csv.includes('\u0007'));
});

test('every JSON output keeps exact values and carries no raw invisible character', () => {
	for (const args of [
		['model'],
		['ls', '--json'],
		['tree', '--json'],
		['inspect', containerId],
		['inspect', containerId, '--provenance', '--json'],
		['timeline', '--format', 'jsonl'],
	]) {
		const out = ok(args);
		noRaw(out, args.join(' '));
		const values =
			args[0] === 'timeline'
				? out
						.trim()
						.split('\n')
						.map(l => JSON.parse(l) as unknown)
				: [JSON.parse(out) as unknown];
		assert.ok(
			JSON.stringify(values).includes(JSON.stringify(evilName).slice(1, -1)),
			`${args.join(' ')}: the exact name is kept`,
		);
	}
	const images = ok(['images', '--json']);
	noRaw(images, 'images --json');
	assert.ok(images.includes(longTag));
	const check = cli(['check', '--json', '--root', root]);
	noRaw(check.stdout, 'check --json');
	JSON.parse(check.stdout);
	const files = ok(['files', containerId, '--json']);
	noRaw(files, 'files --json');
	JSON.parse(files);
});

test('graph: a 200 000-character tag is cut with a note, and Graphviz reads the output', () => {
	const dot = ok(['graph']);
	noRaw(dot, 'graph');
	assert.ok(dot.length < 100_000, `${dot.length} characters`);
	assert.match(dot, /…\(\d+ more characters\)/);
	const mermaid = ok(['graph', '--format', 'mermaid']);
	noRaw(mermaid, 'graph --format mermaid');
	assert.match(mermaid, /…#40;\d+ more characters#41;/);
	assert.ok(mermaid.length < 100_000);
	const svg = spawnSync('dot', ['-Tsvg'], {input: dot, encoding: 'utf8', maxBuffer: 64 << 20});
	assert.is(svg.status, 0, svg.stderr);
	assert.is(svg.stderr, '', 'Graphviz says nothing');
	assert.match(svg.stdout, /<svg/);
	assert.match(svg.stdout, /more characters\)/);
	assert.ok(svg.stdout.includes(String.raw`evil\x1b]52;c;`), 'the hostile name is shown escaped');
	assert.ok(svg.stdout.includes('&quot;quote\\name'), 'quote and backslash survive DOT escaping');
});

test.run();
