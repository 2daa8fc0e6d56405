// `which` on a real dockerd state (overlay2): the standard scenario (test/helpers/real-states.ts:
// imports, builds, a dangling image, containers in every state) plus a named volume in use, an unused
// one and an anonymous one, and a container that wrote a file to its RW layer and its log. 1000
// random paths of the root at rest must name the owner the brute-force reference names.
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {cleanup, dockerdAvailable, startDockerd} from './helpers/dockerd.ts';
import {makeStandardState} from './helpers/real-states.ts';
import {compareSample} from './helpers/which-reference.ts';

const avail = dockerdAvailable();

if (!avail.ok) {
	test('which on a real dockerd state (needs root + dockerd)', () => {
		if (process.env['CI']) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: dockerd harness: ${avail.why}`);
	});
} else {
	test('which: 1000 random paths of a real overlay2 state name the owner the reference names', async () => {
		const daemon = await startDockerd({driver: 'overlay2'});
		try {
			const facts = await makeStandardState(daemon);
			const image = facts.facts.busyboxImageId;
			daemon.docker(['volume', 'create', 'used']);
			daemon.docker(['volume', 'create', 'unused']);
			daemon.docker(['run', '--name', 'writer', '-v', 'used:/data', '-v', '/anon', image, 'sh', '-c', 'echo hi > /data/x; echo rw > /rw-file; echo logged']);
			await daemon.stop();
			const kinds = compareSample(daemon.root, 2026);
			for (const k of ['layer', 'container', 'image', 'volume', 'daemon']) assert.ok((kinds.get(k) ?? 0) > 0, `${k}: ${JSON.stringify([...kinds])}`);
		} finally {
			await daemon.stop();
			await cleanup(daemon);
		}
	});
}

test.run();
