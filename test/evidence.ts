import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {ageAtimes, atimes, fingerprint} from './helpers/fingerprint.ts';
import {realRoot} from './helpers/real-fixtures.ts';
import {cli, repo} from './helpers/run-cli.ts';

// Never change the evidence: a fingerprint of every path under a real root (type, size, mode,
// owner, mtime, link target, content) and of every file's access time is the same before and
// after running every command on it.

/** Where `export -o` writes during these tests (outside every root), removed at exit. */
const exportOut = path.join(os.tmpdir(), `layerlens-evidence-${process.pid}.tar`);
process.on('exit', () => {
	fs.rmSync(exportOut, {force: true});
	fs.rmSync(`${exportOut}.sha256`, {force: true});
});

/** Every command that reads a root, as scripts run them. Add new commands here. */
function everyCommand(root: string): string[][] {
	const m = JSON.parse(cli(['model', '--root', root]).stdout) as {containers: Array<{id: string; name: string}>; images: Array<{id: string}>; layers: Array<{chainId: string}>};
	const refs = [m.containers[0]?.name, m.containers[0]?.id.slice(0, 8), m.images[0]?.id, m.layers[0]?.chainId].filter((x): x is string => x !== undefined);
	return [
		[],
		['tree'],
		['tree', '--json'],
		['ls'],
		['ls', '--json'],
		['images'],
		['images', '--json'],
		['model'],
		...refs.map(r => ['inspect', r]),
		...refs.map(r => ['tree', r]),
		// files, diff, cat, export (issue #6): the export goes outside the root
		...(m.containers[0] === undefined
			? []
			: [
					['files', m.containers[0].name],
					['files', m.containers[0].name, '--json'],
					['diff', m.containers[0].name],
					['cat', m.containers[0].name, '/.dockerenv'],
					['export', m.containers[0].name, '-o', exportOut, '--hash'],
				]),
	].map(args => [...args, '--root', root]);
}

function roots(): Array<[string, string]> {
	const out: Array<[string, string]> = [];
	for (const name of ['aufs', 'overlay2'] as const) {
		const r = realRoot(name);
		if (r !== null) out.push([name, r]);
	}
	return out;
}

test('every command leaves every path of a real root exactly as it was', () => {
	const sample = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-evidence-'));
	try {
		execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpzf', path.join(repo, 'sample', 'docker.tar.gz'), '-C', sample]);
		for (const [name, root] of [...roots(), ['sample', path.join(sample, 'docker')] as [string, string]]) {
			const before = fingerprint(root);
			for (const argv of everyCommand(root)) {
				const r = cli(argv);
				assert.is(r.code, 0, `${name}: ${argv.join(' ')}: ${r.stderr}`);
			}
			const after = fingerprint(root);
			assert.equal([...after.entries()], [...before.entries()], `${name}: the evidence changed`);
		}
	} finally {
		fs.rmSync(sample, {recursive: true, force: true});
	}
});

test('reads do not even update access times (O_NOATIME), where the OS allows it', () => {
	if (process.getuid?.() !== 0) return console.log('  (skipped: O_NOATIME needs the files to be ours or root)');
	for (const [name, real] of roots()) {
		const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-atime-'));
		try {
			execFileSync('cp', ['-a', `${real}/.`, copy]);
			ageAtimes(copy);
			const before = atimes(copy);
			// A plain read does update them on this file system: the check is not empty.
			const probe = [...before.keys()].find(k => k.endsWith('config.v2.json'))!;
			for (const argv of everyCommand(copy)) assert.is(cli(argv).code, 0);
			const after = atimes(copy);
			assert.equal([...after.entries()], [...before.entries()], `${name}: access times changed`);
			fs.readFileSync(path.join(copy, probe));
			const touched = fs.statSync(path.join(copy, probe)).atimeMs !== before.get(probe);
			if (!touched) console.log(`  (note: this file system does not update access times on read; the check above proves less here)`);
		} finally {
			fs.rmSync(copy, {recursive: true, force: true});
		}
	}
});

test.run();
