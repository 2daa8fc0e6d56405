// image/<driver>/distribution/ on a copy of the sample (a real overlay2 state whose distribution/ is
// empty), filled the way dockerd 20.10 writes it on pull and push (test/dockerd/side-by-side.ts checks
// that against a registry): what the model and inspect show, and damage as warnings, never followed.
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../../src/load.ts';
import {sampleRoot} from '../helpers/check-roots.ts';
import {copyTree} from '../helpers/fake-root.ts';
import {ll} from '../helpers/files-run.ts';

const blob = (c: string): string => `sha256:${c.repeat(64)}`;

function withDistribution(fill: (dist: string, diffIds: string[]) => void): {
	dir: string;
	diffIds: string[];
	chainIds: string[];
} {
	const dir = copyTree(sampleRoot());
	const {model} = loadModel(openSource(dir));
	const img = model.images.find(i => i.diffIds.length > 0)!;
	fill(path.join(dir, 'image/overlay2/distribution'), img.diffIds);
	return {dir, diffIds: img.diffIds, chainIds: img.chainIds};
}

const v2 = (dist: string, diffId: string, entries: unknown): void => {
	fs.mkdirSync(path.join(dist, 'v2metadata-by-diffid/sha256'), {recursive: true});
	fs.writeFileSync(path.join(dist, 'v2metadata-by-diffid/sha256', diffId.slice(7)), JSON.stringify(entries));
};
const byDigest = (dist: string, digest: string, diffId: string): void => {
	fs.mkdirSync(path.join(dist, 'diffid-by-digest/sha256'), {recursive: true});
	fs.writeFileSync(path.join(dist, 'diffid-by-digest/sha256', digest.slice(7)), diffId);
};

test('distribution: blobs and repositories per layer, in the model, inspect IMAGE and inspect LAYER', async () => {
	const {dir, diffIds, chainIds} = withDistribution((dist, ids) => {
		v2(dist, ids[0]!, [{Digest: blob('a'), SourceRepository: 'docker.io/library/busybox', HMAC: ''}]);
		byDigest(dist, blob('a'), ids[0]!);
		byDigest(dist, blob('b'), ids[0]!); // pulled once more from elsewhere: only diffid-by-digest knows it
	});
	try {
		const {model} = loadModel(openSource(dir));
		const layer = model.layers.find(l => l.chainId === chainIds[0])!;
		assert.equal(layer.distribution, [
			{digest: blob('a'), sourceRepository: 'docker.io/library/busybox', hmac: ''},
			{digest: blob('b'), sourceRepository: null, hmac: null},
		]);
		assert.equal(
			model.findings.filter(f => f.subject === 'store:overlay2'),
			[],
		);
		const m = JSON.parse((await ll(['model', '--root', dir])).stdout);
		assert.equal(
			m.layers.find((l: any) => l.chainId === chainIds[0]).distribution.map((b: any) => b.digest),
			[blob('a'), blob('b')],
		);
		const img = model.images.find(i => i.diffIds[0] === diffIds[0])!;
		const inspected = JSON.parse((await ll(['inspect', img.id, '--root', dir])).stdout);
		assert.equal(inspected.distribution[0], {chainId: chainIds[0], blobs: layer.distribution});
		assert.ok(chainIds.length > 1, 'the sample image has several layers');
		assert.equal(inspected.distribution[1].blobs, []);
		const l = JSON.parse((await ll(['inspect', chainIds[0]!, '--root', dir])).stdout);
		assert.is(l.kind, 'layer');
		assert.equal(l.distribution, layer.distribution);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('distribution: symlinks (never followed), odd entries and damaged records are warnings on the store', () => {
	const outside = fs.mkdtempSync('/tmp/ll-dist-outside-');
	fs.writeFileSync(path.join(outside, 'x'), JSON.stringify([{Digest: blob('e'), SourceRepository: 'evil'}]));
	const {dir, chainIds} = withDistribution((dist, ids) => {
		v2(dist, ids[0]!, [{Digest: blob('a'), SourceRepository: 'r'}, {Digest: 'not a digest'}, 'junk']);
		fs.symlinkSync(path.join(outside, 'x'), path.join(dist, 'v2metadata-by-diffid/sha256', ids[1]!.slice(7)));
		fs.writeFileSync(path.join(dist, 'v2metadata-by-diffid/sha256', 'f'.repeat(64)), '{not json');
		fs.writeFileSync(path.join(dist, 'v2metadata-by-diffid/sha256', 'README'), 'hi');
		// The other part is a symlink to a directory outside the root: not listed at all.
		fs.rmSync(path.join(dist, 'diffid-by-digest'), {recursive: true, force: true});
		fs.symlinkSync(outside, path.join(dist, 'diffid-by-digest'));
	});
	try {
		const {model} = loadModel(openSource(dir));
		const f = model.findings.filter(x => x.subject === 'store:overlay2');
		const codes = f.map(x => `${x.severity} ${x.code} ${x.path}`);
		assert.ok(
			f.every(x => x.severity === 'warning'),
			codes.join('\n'),
		);
		assert.ok(codes.includes('warning file.symlink image/overlay2/distribution/diffid-by-digest'), codes.join('\n'));
		assert.ok(
			codes.some(c => c.startsWith('warning json.invalid ') && c.endsWith(`/${'f'.repeat(64)}`)),
			codes.join('\n'),
		);
		assert.ok(
			codes.some(c => c.startsWith('warning entry.unexpected ') && c.endsWith('/README')),
			codes.join('\n'),
		);
		assert.ok(
			f.some(x => x.code === 'json.shape' && /2 of 3 entries/.test(x.message)),
			codes.join('\n'),
		);
		assert.ok(
			codes.some(c => c.startsWith('warning file.symlink ') && c.includes('v2metadata-by-diffid')),
			codes.join('\n'),
		);
		assert.equal(model.layers.find(l => l.chainId === chainIds[0])!.distribution, [
			{digest: blob('a'), sourceRepository: 'r', hmac: null},
		]);
		assert.not.ok(JSON.stringify(model).includes('evil'), 'nothing read through a symlink');
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
		fs.rmSync(outside, {recursive: true, force: true});
	}
});

test.run();
