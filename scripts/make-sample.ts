// Usage: node --import tsx scripts/make-sample.ts
// Makes the sample state shipped with layerlens: a real Docker root written by the real dockerd
// (overlay2), at rest, as sample/docker.tar.gz (the root under a leading docker/ folder, with
// xattrs and the whiteout device nodes kept: made as root), plus sample/expected.json, what the
// daemon itself said about it (docker inspect, docker image inspect, docker ps, docker images).
// The scenario is test/helpers/real-states.ts: an imported busybox image, a legacy multi-layer
// build rebuilt to leave a dangling image, the seed article's `docker create -it --name
// docker_test`, started containers with changes (one exited with 3), a stopped and a renamed one.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {dockerdAvailable} from '../test/helpers/dockerd.ts';
import {snapshotState} from '../test/helpers/real-states.ts';

const repo = path.join(import.meta.dirname, '..');
const avail = dockerdAvailable();
if (!avail.ok) {
	console.error(`cannot run dockerd: ${avail.why}`);
	process.exit(1);
}
const snap = await snapshotState('overlay2');
try {
	const out = path.join(repo, 'sample');
	fs.mkdirSync(out, {recursive: true});
	const tarball = path.join(out, 'docker.tar.gz');
	execFileSync('tar', [
		'--xattrs',
		'--xattrs-include=*',
		'--numeric-owner',
		'--sort=name',
		'--format=pax',
		'--transform=s,^\\.,docker,S', // S: not symlink targets (../x would become docker./x)
		'-czf',
		tarball,
		'-C',
		snap.root,
		'.',
	]);
	const expected = {...snap.expected, root: snap.expected.root};
	fs.writeFileSync(path.join(out, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
	console.log(
		`wrote ${tarball} (${fs.statSync(tarball).size} bytes) and sample/expected.json (captured at ${snap.expected.root})`,
	);
} finally {
	await snap.dispose();
}
