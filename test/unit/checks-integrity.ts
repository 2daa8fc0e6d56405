import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {BLOBS, basicC8dRoot} from '../helpers/c8d-root.ts';
import {
	checkBroken,
	checkDir,
	diskLayers,
	diskMounts,
	findingsOf,
	firstFile,
	layerFiles,
	real,
} from '../helpers/check-roots.ts';

// Integrity: each code produced from a copy of a real state broken on purpose.

const p = (root: string, rel: string): string => path.join(root, rel);

test('layer.chain-id-mismatch: a layerdb parent file changed (sample)', async () => {
	const r = await checkBroken('sample', root => {
		const child = diskLayers(root, 'overlay2').find(l => l.parent !== undefined)!;
		const other = diskLayers(root, 'overlay2').find(l => l.chainId !== child.parent && l.chainId !== child.chainId)!;
		fs.writeFileSync(path.join(child.dir, 'parent'), other.chainId);
	});
	if (r === null) return;
	const f = findingsOf(r, 'layer.chain-id-mismatch');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'error');
	assert.match(f[0]!.path!, /^image\/overlay2\/layerdb\/sha256\/[0-9a-f]{64}$/);
	assert.match(f[0]!.message, /sha256\(/);
	// The image's chain says otherwise too (link's check, listed under the layer).
	assert.ok(findingsOf(r, 'layer.parent-mismatch').length > 0);
});

test('layer.chain-id-mismatch: a base layer whose diff file changed (overlay2 fixture)', async () => {
	const r = await checkBroken('overlay2', root => {
		const base = diskLayers(root, 'overlay2')[0]!;
		fs.writeFileSync(path.join(base.dir, 'diff'), `sha256:${createHash('sha256').update('other').digest('hex')}`);
	});
	if (r === null) return;
	assert.match(findingsOf(r, 'layer.chain-id-mismatch')[0]?.message ?? '', /must equal its diff id/);
	assert.ok(findingsOf(r, 'layer.diff-mismatch').length > 0);
});

test('layer.parent-missing: the parent layer of a layer was removed from layerdb (sample)', async () => {
	let gone = '';
	const r = await checkBroken('sample', root => {
		const layers = diskLayers(root, 'overlay2');
		const child = layers.find(l => l.parent !== undefined)!;
		gone = child.parent!;
		fs.rmSync(p(root, `image/overlay2/layerdb/sha256/${gone.slice(7)}`), {recursive: true});
	});
	if (r === null) return;
	const f = findingsOf(r, 'layer.parent-missing');
	assert.ok(f.length >= 1);
	assert.ok(f.every(x => x.message.includes(gone)));
	assert.ok(f.every(x => x.path!.endsWith('/parent')));
	const obj = r.objects.find(o => o.subject === f[0]!.subject)!;
	assert.is(obj.checks.find(c => c.check === 'layer.parent')?.status, 'fail');
});

test('driver.lower-mismatch: an overlay2 lower file lists the layers in another order (overlay2 fixture)', async () => {
	const r = await checkBroken('overlay2', root => {
		const m = diskMounts(root, 'overlay2')[0]!;
		const file = p(root, `overlay2/${m.mountId}/lower`);
		fs.writeFileSync(file, fs.readFileSync(file, 'utf8').split(':').reverse().join(':'));
	});
	if (r === null) return;
	const f = findingsOf(r, 'driver.lower-mismatch');
	assert.is(f.length, 1);
	assert.match(f[0]!.subject, /^container:/);
	assert.match(f[0]!.message, /entry 1 \(l\/[A-Z0-9]+\) is /);
	assert.match(f[0]!.path!, /^overlay2\/[0-9a-f]{64}\/lower$/);
});

test('driver.lower-mismatch: an overlay2 init layer lost its lower file (sample)', async () => {
	const r = await checkBroken('sample', root => {
		const m = diskMounts(root, 'overlay2')[0]!;
		fs.rmSync(p(root, `overlay2/${m.initId}/lower`));
	});
	if (r === null) return;
	assert.match(findingsOf(r, 'driver.lower-mismatch')[0]?.message ?? '', /init layer .* has no lower file/);
});

test('driver.lower-mismatch: an aufs layers file names another ancestor (aufs fixture)', async () => {
	const r = await checkBroken('aufs', root => {
		const m = diskMounts(root, 'aufs')[0]!;
		fs.writeFileSync(p(root, `aufs/layers/${m.mountId}`), `${m.initId}\n${'0'.repeat(64)}\n`);
	});
	if (r === null) return;
	const f = findingsOf(r, 'driver.lower-mismatch');
	assert.is(f.length, 1);
	assert.match(f[0]!.message, /line 2 is 000000000000…/);
	assert.match(f[0]!.path!, /^aufs\/layers\//);
});

test('driver.link-broken: an l/ symlink removed, and a link file naming another layer (overlay2 fixture)', async () => {
	const r = await checkBroken('overlay2', root => {
		const base = diskLayers(root, 'overlay2')[0]!;
		const short = fs.readFileSync(p(root, `overlay2/${base.cacheId}/link`), 'utf8');
		fs.rmSync(p(root, `overlay2/l/${short}`));
		const m = diskMounts(root, 'overlay2')[0]!;
		const initShort = fs.readFileSync(p(root, `overlay2/${m.initId}/link`), 'utf8');
		const rwShort = fs.readFileSync(p(root, `overlay2/${m.mountId}/link`), 'utf8');
		fs.writeFileSync(p(root, `overlay2/${m.initId}/link`), rwShort);
		assert.ok(initShort !== rwShort);
	});
	if (r === null) return;
	const f = findingsOf(r, 'driver.link-broken');
	assert.ok(f.some(x => x.subject.startsWith('layer:') && /has no such symlink/.test(x.message)));
	assert.ok(f.some(x => x.subject.startsWith('container:') && /points to .*, not \.\.\//.test(x.message)));
	// The children's lower entries no longer resolve either.
	assert.ok(findingsOf(r, 'driver.lower-mismatch').some(x => /does not resolve/.test(x.message)));
});

test('layer.uncommitted: a layer with children lost its committed marker (sample, a daemon that writes markers)', async () => {
	const r = await checkBroken('sample', root => {
		const base = diskLayers(root, 'overlay2').find(l => l.parent === undefined)!;
		fs.rmSync(p(root, `overlay2/${base.cacheId}/committed`));
	});
	if (r === null) return;
	const f = findingsOf(r, 'layer.uncommitted');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'info');
	assert.match(f[0]!.path!, /\/committed$/);
});

test('layer.uncommitted: not reported on a daemon that never wrote markers (overlay2 fixture, 17.x)', async () => {
	const r = await checkBroken('overlay2', () => {});
	if (r === null) return;
	assert.equal(findingsOf(r, 'layer.uncommitted'), []);
});

// --deep

test('layer.content-mismatch: a layer file changed, same size (overlay2 fixture): names the entry', async () => {
	let changed = '';
	const r = await checkBroken(
		'overlay2',
		root => {
			const base = diskLayers(root, 'overlay2')[0]!;
			const dir = p(root, layerFiles('overlay2', base.cacheId));
			changed = firstFile(dir)!;
			const data = fs.readFileSync(path.join(dir, changed));
			data[0] = data[0]! ^ 0xff;
			fs.writeFileSync(path.join(dir, changed), data);
		},
		true,
	);
	if (r === null) return;
	const f = findingsOf(r, 'layer.content-mismatch');
	assert.is(f.length, 1);
	assert.ok(
		f[0]!.message.includes(JSON.stringify(changed)) || f[0]!.message.includes(JSON.stringify(`./${changed}`)),
		f[0]!.message,
	);
	assert.match(f[0]!.message, /CRC-64 differs/);
	assert.ok(f[0]!.path!.endsWith(changed));
});

test('layer.content-mismatch: a layer file removed and one grown (aufs fixture)', async () => {
	const r = await checkBroken(
		'aufs',
		root => {
			const base = diskLayers(root, 'aufs')[0]!;
			const dir = p(root, layerFiles('aufs', base.cacheId));
			fs.rmSync(path.join(dir, firstFile(dir)!));
		},
		true,
	);
	if (r === null) return;
	assert.match(findingsOf(r, 'layer.content-mismatch')[0]?.message ?? '', /is missing from the layer directory/);
	const grown = await checkBroken(
		'sample',
		root => {
			const base = diskLayers(root, 'overlay2').find(l => l.parent === undefined)!;
			const dir = p(root, layerFiles('overlay2', base.cacheId));
			fs.appendFileSync(path.join(dir, firstFile(dir)!), 'x');
		},
		true,
	);
	assert.match(findingsOf(grown!, 'layer.content-mismatch')[0]?.message ?? '', /bytes on disk, the layer recorded/);
	// The size no longer adds up either.
	assert.ok(findingsOf(grown!, 'layer.size-mismatch').length === 1);
});

test('layer.content-mismatch: the tar-split headers changed while every file still matches (sample)', async () => {
	const zlib = await import('node:zlib');
	const r = await checkBroken(
		'sample',
		root => {
			const base = diskLayers(root, 'overlay2').find(l => l.parent === undefined)!;
			const file = path.join(base.dir, 'tar-split.json.gz');
			const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n');
			// A segment gains a byte: headers differ, file payloads do not.
			const i = lines.findIndex(l => l.includes('"type":2') && l.includes('"payload":"'));
			const seg = JSON.parse(lines[i]!) as {payload: string};
			seg.payload = Buffer.concat([Buffer.from(seg.payload, 'base64'), Buffer.from([0])]).toString('base64');
			lines[i] = JSON.stringify({...JSON.parse(lines[i]!), payload: seg.payload});
			fs.writeFileSync(file, zlib.gzipSync(lines.join('\n')));
		},
		true,
	);
	if (r === null) return;
	assert.match(
		findingsOf(r, 'layer.content-mismatch')[0]?.message ?? '',
		/every file matches its recorded CRC-64, but the rebuilt tar stream hashes to sha256:/,
	);
});

test('layer.content-mismatch: a tar-split entry naming a path outside the layer is refused, not followed (overlay2 fixture)', async () => {
	const zlib = await import('node:zlib');
	const r = await checkBroken(
		'overlay2',
		root => {
			const base = diskLayers(root, 'overlay2')[0]!;
			const file = path.join(base.dir, 'tar-split.json.gz');
			const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n');
			const i = lines.findIndex(l => l.includes('"type":1') && /"size":[1-9]/.test(l));
			lines[i] = JSON.stringify({...JSON.parse(lines[i]!), name: '../../../../../../etc/passwd'});
			fs.writeFileSync(file, zlib.gzipSync(lines.join('\n')));
		},
		true,
	);
	if (r === null) return;
	assert.match(findingsOf(r, 'layer.content-mismatch')[0]?.message ?? '', /its name leaves the layer directory/);
});

test('layer.tar-split-missing and layer.tar-split-invalid (overlay2 fixture, sample)', async () => {
	const missing = await checkBroken(
		'overlay2',
		root => {
			fs.rmSync(path.join(diskLayers(root, 'overlay2')[0]!.dir, 'tar-split.json.gz'));
		},
		true,
	);
	if (missing === null) return;
	const m = findingsOf(missing, 'layer.tar-split-missing');
	assert.is(m.length, 1);
	assert.is(m[0]!.severity, 'warning');
	const invalid = await checkBroken(
		'sample',
		root => {
			for (const l of diskLayers(root, 'overlay2')) {
				const file = path.join(l.dir, 'tar-split.json.gz');
				const data = fs.readFileSync(file);
				fs.writeFileSync(file, data.subarray(0, Math.floor(data.length / 2)));
			}
		},
		true,
	);
	const v = findingsOf(invalid!, 'layer.tar-split-invalid');
	assert.is(v.length, diskLayers(real('sample')!, 'overlay2').length);
	assert.ok(v.every(x => x.severity === 'error' && x.path!.endsWith('tar-split.json.gz')));
	// Not JSON inside a valid gzip.
	const zlib = await import('node:zlib');
	const garbage = await checkBroken(
		'aufs',
		root => {
			fs.writeFileSync(
				path.join(diskLayers(root, 'aufs')[0]!.dir, 'tar-split.json.gz'),
				zlib.gzipSync('{"type":2,"payload":"AAAA"}\nnot json\n'),
			);
		},
		true,
	);
	assert.match(findingsOf(garbage!, 'layer.tar-split-invalid')[0]?.message ?? '', /line 2 is not JSON/);
});

test('layer.size-mismatch: the layerdb size file changed (aufs fixture)', async () => {
	const r = await checkBroken(
		'aufs',
		root => {
			const base = diskLayers(root, 'aufs')[0]!;
			fs.writeFileSync(path.join(base.dir, 'size'), '12345');
		},
		true,
	);
	if (r === null) return;
	const f = findingsOf(r, 'layer.size-mismatch');
	assert.is(f.length, 1);
	assert.match(f[0]!.message, /records a size of 12.3kB \(12345 bytes\)/);
	assert.match(f[0]!.path!, /\/size$/);
	// Content itself is fine.
	assert.equal(findingsOf(r, 'layer.content-mismatch'), []);
});

// A docker rm -f cut short by a daemon crash (reproduced with kill -9 on dockerd 20.10, overlay2):
// State.RemovalInProgress stays true and the RW layer directory has lost lower, link and work/ with
// part of diff/. The restarted daemon marks such a container dead; docker rm then finishes it.
function interruptRemoval(root: string, flag: 'RemovalInProgress' | 'Dead'): {id: string; mountId: string} {
	const m = diskMounts(root, 'overlay2')[0]!;
	const file = p(root, `containers/${m.containerId}/config.v2.json`);
	const config = JSON.parse(fs.readFileSync(file, 'utf8'));
	config.State = {...config.State, Running: false, Pid: 0, [flag]: true};
	fs.writeFileSync(file, JSON.stringify(config));
	for (const f of ['lower', 'link', 'work'])
		fs.rmSync(p(root, `overlay2/${m.mountId}/${f}`), {recursive: true, force: true});
	return {id: m.containerId, mountId: m.mountId};
}

test('container.removal-interrupted: RemovalInProgress with a half-deleted RW layer (sample)', async () => {
	let c = {id: '', mountId: ''};
	const r = await checkBroken('sample', root => {
		c = interruptRemoval(root, 'RemovalInProgress');
		fs.writeFileSync(p(root, `overlay2/${c.mountId}/diff/left-over`), 'x'.repeat(5000));
	});
	assert.ok(r !== null, 'the sample is always there');
	if (r === null) return;
	const f = findingsOf(r, 'container.removal-interrupted');
	assert.is(f.length, 1);
	assert.is(f[0]!.subject, `container:${c.id}`);
	assert.is(f[0]!.severity, 'warning');
	assert.match(f[0]!.message, /marks it dead \(State\.Dead\), and `docker rm` then finishes/);
	const bytes = Number(/\((\d+) bytes\)/.exec(f[0]!.message)?.[1]);
	assert.ok(bytes >= 5000, `counts what is left: ${f[0]!.message}`);
	assert.match(f[0]!.message, new RegExp(`overlay2/${c.mountId}/diff`));
	// The lower file it lost is part of the same story: said so, and not an error.
	const lower = findingsOf(r, 'driver.lower-mismatch').filter(x => x.subject === `container:${c.id}`);
	assert.is(lower.length, 1);
	assert.is(lower[0]!.severity, 'warning');
	assert.match(lower[0]!.message, /left by the unfinished removal \(see container\.removal-interrupted\)/);
	assert.equal(
		r.findings.filter(x => x.subject === `container:${c.id}` && x.severity === 'error'),
		[],
	);
});

test('container.dead: the daemon marked it dead at its restart; a lost RW layer is no error (sample)', async () => {
	let c = {id: '', mountId: ''};
	const r = await checkBroken('sample', root => {
		c = interruptRemoval(root, 'Dead');
		fs.rmSync(p(root, `overlay2/${c.mountId}`), {recursive: true});
	});
	if (r === null) return;
	const f = findingsOf(r, 'container.dead');
	assert.is(f.length, 1);
	assert.match(f[0]!.message, /`docker rm` removes it/);
	const gone = findingsOf(r, 'container.layer-dir-missing').filter(x => x.subject === `container:${c.id}`);
	assert.is(gone.length, 1);
	assert.is(gone[0]!.severity, 'warning');
	assert.match(gone[0]!.message, /unfinished removal \(State\.Dead\)/);
	assert.equal(
		r.findings.filter(x => x.subject === `container:${c.id}` && x.severity === 'error'),
		[],
	);
});

test('container.image-removed vs container.image-missing: the image config gone, then a layer of the chain too (sample)', async () => {
	const imageOf = (root: string, id: string): string =>
		JSON.parse(fs.readFileSync(p(root, `containers/${id}/config.v2.json`), 'utf8')).Image.slice(7);
	let id = '';
	const r = await checkBroken('sample', root => {
		id = diskMounts(root, 'overlay2')[0]!.containerId;
		fs.rmSync(p(root, `image/overlay2/imagedb/content/sha256/${imageOf(root, id)}`));
	});
	if (r === null) return;
	const removed = findingsOf(r, 'container.image-removed').filter(x => x.subject === `container:${id}`);
	assert.is(removed.length, 1);
	assert.is(removed[0]!.severity, 'warning');
	assert.match(removed[0]!.message, /docker rmi -f/);
	assert.equal(findingsOf(r, 'container.image-missing'), []);
	const broken = await checkBroken('sample', root => {
		const m = diskMounts(root, 'overlay2').find(x => x.containerId === id)!;
		fs.rmSync(p(root, `image/overlay2/imagedb/content/sha256/${imageOf(root, id)}`));
		fs.rmSync(p(root, `image/overlay2/layerdb/sha256/${m.parent!.slice(7)}`), {recursive: true});
	});
	const missing = findingsOf(broken!, 'container.image-missing').filter(x => x.subject === `container:${id}`);
	assert.is(missing.length, 1);
	assert.is(missing[0]!.severity, 'error');
	assert.match(missing[0]!.message, /layer chain is not intact either/);
	assert.equal(findingsOf(broken!, 'container.image-removed'), []);
});

test('without --deep, no layer content is read', async () => {
	const r = await checkBroken('overlay2', root => {
		const base = diskLayers(root, 'overlay2')[0]!;
		fs.rmSync(path.join(base.dir, 'tar-split.json.gz'));
	});
	if (r === null) return;
	assert.equal(findingsOf(r, 'layer.tar-split-missing'), []);
	assert.not.ok(r.objects.some(o => o.checks.some(c => c.check === 'layer.content')));
});

test('content.blob-mismatch: a containerd manifest and a config blob altered after containerd stored them (containerd store built in code)', async () => {
	const {r, base, child} = basicC8dRoot();
	try {
		r.save();
		const clean = await checkDir(r.dir);
		assert.equal(findingsOf(clean, 'content.blob-mismatch'), []);
		// Still JSON, other bytes: the reader reads them, the check names them.
		const cfg = r.p(`${BLOBS}/${base.config.digest.slice(7)}`);
		fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('"amd64"', '"arm64"'));
		const man = r.p(`${BLOBS}/${child.manifest.digest.slice(7)}`);
		fs.writeFileSync(man, fs.readFileSync(man, 'utf8').replace('"schemaVersion":2', '"schemaVersion": 2'));
		const broken = await checkDir(r.dir);
		const f = findingsOf(broken, 'content.blob-mismatch');
		assert.equal(
			f.map(x => [x.severity, x.subject, x.path]).sort(),
			[
				['error', `image:${base.manifest.digest}`, `${BLOBS}/${base.config.digest.slice(7)}`],
				['error', `image:${child.manifest.digest}`, `${BLOBS}/${child.manifest.digest.slice(7)}`],
			].sort(),
		);
		assert.match(
			f.find(x => x.subject === `image:${child.manifest.digest}`)!.message,
			/manifest \(the image id\) blob .* does not hash to its digest/,
		);
		assert.match(f.find(x => x.subject === `image:${base.manifest.digest}`)!.message, /config blob/);
		const obj = broken.objects.find(o => o.subject === `image:${child.manifest.digest}`)!;
		assert.is(obj.checks.find(c => c.check === 'image.content')?.status, 'fail');
		assert.is(obj.checks.find(c => c.check === 'image.id')?.status, 'skipped');
	} finally {
		r.remove();
	}
});

test.run();
