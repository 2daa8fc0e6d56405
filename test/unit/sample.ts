import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openRoot} from '../../src/load.ts';
import {modelJson} from '../../src/view/json.ts';
import {compareWithDaemon} from '../helpers/compare-daemon.ts';
import type {Expected} from '../helpers/real-states.ts';

// The sample shipped in sample/: a real overlay2 root written by the real dockerd
// (scripts/make-sample.ts), with what the daemon said about it in sample/expected.json.
const repo = path.join(import.meta.dirname, '..', '..');
const tarball = path.join(repo, 'sample', 'docker.tar.gz');
const expected = JSON.parse(fs.readFileSync(path.join(repo, 'sample', 'expected.json'), 'utf8')) as Expected;

test('the sample is small, and read from the archive it agrees with what dockerd said', async () => {
	assert.ok(fs.statSync(tarball).size < 3 * 1024 * 1024, 'under a few MB');
	const opened = await openRoot(tarball);
	assert.ok(opened.ok);
	if (!opened.ok) return;
	const m = loadModel(opened.source).model;
	assert.is(m.sourceKind, 'archive');
	compareWithDaemon(m, expected, 'overlay2');
	const names = m.containers.map(c => c.name).sort();
	assert.ok(names.includes('docker_test'), "the seed article's docker create");
	assert.ok(m.images.some(i => i.dangling) && m.images.some(i => i.intermediate));
});

test('the sample gives the same model from the archive as from its extracted directory (extracted as root, devices and xattrs kept)', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-sample-'));
	try {
		execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpzf', tarball, '-C', dir]);
		const fromDir = await openRoot(path.join(dir, 'docker'));
		const fromTar = await openRoot(tarball);
		assert.ok(fromDir.ok && fromTar.ok);
		if (!fromDir.ok || !fromTar.ok) return;
		const a = modelJson(loadModel(fromDir.source).model);
		const b = modelJson(loadModel(fromTar.source).model);
		assert.equal({...b, root: ''}, {...a, root: ''});
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test.run();
