import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../../src/load.ts';
import {realRoot} from '../helpers/real-fixtures.ts';

// Two real hosts' trees (from google/docker-explorer's test data, Apache-2.0): aufs written by
// Docker 1.11, overlay2 by Docker 1.13–17.05. Read through test/helpers/real-fixtures.ts: skipped (it says so) when absent,
// required under CI.

test('aufs.v2: every container chain equals aufs/layers/<mount-id>, and nothing is broken', () => {
	const root = realRoot('aufs');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const m = loadModel(openSource(root)).model;
	// The one thing missing from this copy: a volume the jenkins container mounts.
	assert.equal(
		m.findings.map(f => [f.severity, f.code]),
		[['info', 'container.volume-missing']],
	);
	assert.equal(m.drivers, ['aufs']);
	assert.is(m.containers.length, 7);
	for (const c of m.containers) {
		const recorded = fs
			.readFileSync(path.join(root, 'aufs/layers', c.mountId!), 'utf8')
			.split('\n')
			.filter(Boolean);
		assert.equal(
			c.chain.slice(1).map(e => e.cacheId),
			recorded,
			c.id,
		);
		assert.is(c.chain[1]!.cacheId, `${c.mountId}-init`);
		assert.is(c.imageId, 'sha256:7968321274dc6b6171697c33df7815310468e694ac5be0ec03ff053bb135e768');
		assert.equal(c.imageTags, ['busybox:latest']);
	}
	const names = m.containers.map(c => `${c.name}:${c.status}`).sort();
	assert.ok(names.includes('tiny_yalow:exited'));
	assert.ok(names.includes('sharp_kowalevski:created'));
});

test('overlay2.v2: every container chain equals overlay2/<mount-id>/lower, through the l/ links', () => {
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const m = loadModel(openSource(root)).model;
	assert.equal(m.findings, []);
	// image/overlay is an empty store left by a driver switch: both stores are read.
	assert.equal(m.drivers, ['overlay', 'overlay2']);
	assert.is(m.containers.length, 5);
	for (const c of m.containers) {
		const lower = fs
			.readFileSync(path.join(root, 'overlay2', c.mountId!, 'lower'), 'utf8')
			.trim()
			.split(':');
		const ids = lower.map(l =>
			fs
				.readlinkSync(path.join(root, 'overlay2', l))
				.replace(/^\.\.\//, '')
				.replace(/\/diff$/, ''),
		);
		assert.equal(
			c.chain.slice(1).map(e => e.cacheId),
			ids,
			c.id,
		);
		assert.equal(
			c.chain.map(e => e.path),
			c.chain.map(e => `overlay2/${e.cacheId}/diff`),
		);
	}
	const img = m.images.find(i => i.tags.includes('busybox:latest'))!;
	assert.equal(img.digests, ['busybox@sha256:58ac43b2cc92c687a32c8be6278e50a063579655fe3090125dcb2af0ff9e1a64']);
	const byName = new Map(m.containers.map(c => [c.name, c]));
	assert.is(byName.get('festive_perlman')!.status, 'running');
	assert.is(byName.get('reverent_wing')!.status, 'created');
	assert.is(byName.get('mystifying_murdock')!.status, 'exited');
	assert.is(byName.get('objective_franklin')!.imageRef, 'gcr.io/google-containers/busybox:latest');
});

test.run();
