import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {run} from '../../src/cli.ts';
import type {ImageSpace} from '../../src/disk/efficiency.ts';
import {FakeRoot} from '../helpers/fake-root.ts';

// dive's figures (wagoodman/dive: filetree/efficiency.go, image/analysis.go) on a hand-made image of
// three layers, computed by hand below (the dive binary is not on the test hosts):
//   L0: /bin/sh 1000, /etc/conf 100, /data/big 5000, /data/keep 10, /emptydir (empty)
//   L1: /etc/conf 300 (overwritten), whiteout /data/big (a file: counts 0)
//   L2: whiteout /data (a directory: its subtree below, /data/keep, counts 10), /etc/conf 200, /new 50
// Leaves per path (cumulative, smallest): /bin/sh 1000 1000; /etc/conf 600 100 (3 layers);
// /data/big 5000 0 (2 layers); /data/keep 10 10; /emptydir 0 0; /data 10 10; /new 50 50.
// Score = (1000+100+0+10+0+10+50) / (1000+600+5000+10+0+10+50) = 1170 / 6670.
// Inefficient: /data/big (5000) and /etc/conf (600): wasted 5600 (dive counts every copy).
// Layer bytes 6110, 300, 250: size 6660, user size 550, wasted/user 5600 / 550.

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

async function cli(root: string, ...argv: string[]): Promise<{code: number; stdout: string; stderr: string}> {
	let stdout = '';
	let stderr = '';
	const io = {
		stdout: {write: (s: string | Buffer) => void (stdout += s.toString())},
		stderr: {write: (s: string) => void (stderr += s)},
		env: {},
	};
	const code = await run(['-r', root, ...argv], io);
	return {code, stdout, stderr};
}

function handMade(driver: 'aufs' | 'overlay2'): FakeRoot {
	const r = new FakeRoot(driver);
	const layers = ['l0', 'l1', 'l2'].map((cacheId, i) => ({diffId: `sha256:${String(i + 1).repeat(64)}`, cacheId}));
	r.addImage({layers, tags: ['hand:1']});
	const at = (c: string, rel: string) => `${r.layerDir(c)}/${rel}`;
	const whiteout = (c: string, dir: string, name: string) => {
		if (driver === 'aufs') return r.write(at(c, `${dir}${dir === '' ? '' : '/'}.wh.${name}`), '');
		fs.mkdirSync(r.p(at(c, dir)), {recursive: true});
		const made = spawnSync('mknod', [r.p(at(c, `${dir}${dir === '' ? '' : '/'}${name}`)), 'c', '0', '0']);
		if (made.status !== 0) throw new Error('mknod failed');
	};
	r.write(at('l0', 'bin/sh'), 's'.repeat(1000));
	r.write(at('l0', 'etc/conf'), 'c'.repeat(100));
	r.write(at('l0', 'data/big'), 'b'.repeat(5000));
	r.write(at('l0', 'data/keep'), 'k'.repeat(10));
	fs.mkdirSync(r.p(at('l0', 'emptydir')));
	r.write(at('l1', 'etc/conf'), 'C'.repeat(300));
	whiteout('l1', 'data', 'big');
	whiteout('l2', '', 'data');
	r.write(at('l2', 'etc/conf'), 'D'.repeat(200));
	r.write(at('l2', 'new'), 'n'.repeat(50));
	// A second name of /new: a hard link, which a layer's tar carries with no bytes.
	if (driver === 'overlay2') fs.linkSync(r.p(at('l2', 'new')), r.p(at('l2', 'new-link')));
	return r;
}

for (const driver of ['aufs', 'overlay2'] as const) {
	test(`${driver}: efficiency, wasted bytes, user size and inefficiencies equal the hand computation`, async () => {
		if (driver === 'overlay2' && !asRoot) return console.log('  (skipped: overlay whiteouts need mknod as root)');
		const r = handMade(driver);
		try {
			const out = await cli(r.dir, 'space', '--json', 'hand:1');
			assert.is(out.code, 0, out.stderr);
			const s = (JSON.parse(out.stdout) as {schema: number; images: ImageSpace[]}).images[0]!;
			assert.is(s.computed, true);
			assert.is(s.efficiency, 1170 / 6670);
			assert.is(s.wastedBytes, 5600);
			assert.is(s.sizeBytes, 6660);
			assert.is(s.userSizeBytes, 550);
			assert.is(s.wastedUserPercent, 5600 / 550);
			assert.equal(s.inefficiencies, [
				{path: '/data/big', count: 2, cumulativeBytes: 5000, layers: [0, 1]},
				{path: '/etc/conf', count: 3, cumulativeBytes: 600, layers: [0, 1, 2]},
			]);
			assert.equal(
				s.layers.map(l => [l.bytes, l.files]),
				[
					[6110, 4],
					[300, 1],
					[250, driver === 'overlay2' ? 3 : 2],
				],
			);
			assert.equal(s.layers[0]!.biggest, [
				{path: '/data/big', bytes: 5000},
				{path: '/bin/sh', bytes: 1000},
				{path: '/etc/conf', bytes: 100},
				{path: '/data/keep', bytes: 10},
			]);
			assert.equal(s.findings, []);
			const text = await cli(r.dir, 'space');
			assert.is(text.code, 0);
			assert.match(
				text.stdout,
				/^image hand:1 [0-9a-f]{12}\n {2}efficiency: 17\.5412 %\n {2}wasted: 5\.6kB \(5600 bytes\) {3}user size: 550B \(550 bytes\) {3}wasted\/user: 1018\.1818 %\n/,
			);
			assert.match(
				text.stdout,
				/\n {2}count {2}total space {2}path\n {6}2 {10}5kB {2}\/data\/big\n {6}3 {9}600B {2}\/etc\/conf\n/,
			);
			assert.match(text.stdout, /\n {2}layer 1\/3 [0-9a-f]{12}: 6\.11kB in 4 files\n {10}5kB {2}\/data\/big\n/);
		} finally {
			r.remove();
		}
	});
}

test('vfs: not computed, and says why (a finding, not a silent zero)', async () => {
	const r = new FakeRoot('vfs');
	try {
		r.addImage({layers: [{diffId: `sha256:${'1'.repeat(64)}`, cacheId: 'v0'}], tags: ['flat:1']});
		const out = await cli(r.dir, 'space', '--json');
		const s = (JSON.parse(out.stdout) as {images: ImageSpace[]}).images[0]!;
		assert.is(s.computed, false);
		assert.match(s.reason!, /full copy/);
		assert.equal(
			s.findings.map(f => f.code),
			['space.not-computed'],
		);
		assert.is((await cli(r.dir, 'space', 'nosuchimage')).code, 2);
	} finally {
		r.remove();
	}
});

test.run();
