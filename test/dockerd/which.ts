// `which` and `space` on real dockerd states (overlay2 and vfs on dockerd 20.10; overlayfs, the
// containerd store, on dockerd 26): an imported busybox image, a classic build whose steps write
// /big (3000 bytes) and /conf (100 bytes), then delete /big and rewrite /conf (200 bytes), containers
// (one that wrote to its RW layer and its log), a named volume in use, an unused one and an
// anonymous one. 1000 random paths of each root at rest must name the owner the brute-force
// reference names (test/helpers/which-reference.ts); the built image's wasted bytes and efficiency
// must be the hand computation of dive's method (the dive binary is not on the test hosts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {run} from '../../src/cli.ts';
import type {ImageSpace} from '../../src/disk/efficiency.ts';
import {type Driver, cleanup, docker26Available, dockerdAvailable, startDockerd} from '../helpers/dockerd.ts';
import {busyboxRootfsTar} from '../helpers/real-states.ts';
import {compareSample} from '../helpers/which-reference.ts';

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

/** Bytes of the regular files under a directory (the imported rootfs: busybox's applets are symlinks). */
function fileBytes(dir: string): number {
	let n = 0;
	for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) n += fileBytes(p);
		else if (e.isFile()) n += fs.statSync(p).size;
	}
	return n;
}

for (const driver of ['overlay2', 'vfs', 'overlayfs'] as const satisfies readonly Driver[]) {
	test(`${driver}: which on 1000 random paths equals the reference; space equals the hand computation`, async () => {
		const avail = driver === 'overlayfs' ? docker26Available() : dockerdAvailable();
		if (!avail.ok) {
			if (process.env.CI) assert.unreachable(avail.why);
			return console.log(`  skip: ${avail.why}`);
		}
		const work = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-which-d-'));
		const daemon = await startDockerd({driver});
		try {
			const d = daemon.docker;
			const rootfs = path.join(work, 'rootfs');
			d(['import', '-', 'local/base:1'], {input: busyboxRootfsTar(rootfs)});
			const baseBytes = fileBytes(rootfs);
			const ctx = path.join(work, 'ctx');
			fs.mkdirSync(ctx);
			fs.writeFileSync(
				path.join(ctx, 'Dockerfile'),
				'FROM local/base:1\nRUN head -c 3000 /dev/zero > /big && head -c 100 /dev/zero > /conf\nRUN rm /big && head -c 200 /dev/zero > /conf\n',
			);
			d(['build', '-q', '-t', 'local/waste:1', ctx], {env: {DOCKER_BUILDKIT: '0'}});
			d(['volume', 'create', 'used']);
			d(['volume', 'create', 'unused']);
			d([
				'run',
				'--name',
				'writer',
				'-v',
				'used:/data',
				'-v',
				'/anon',
				'local/base:1',
				'sh',
				'-c',
				'echo hi > /data/x; echo rw > /rw-file; echo logged',
			]);
			d(['create', '--name', 'idle', 'local/waste:1', 'true']);
			await daemon.stop();
			const kinds = compareSample(daemon.root, 2026);
			for (const k of ['layer', 'container', 'image', 'volume', 'daemon'])
				assert.ok((kinds.get(k) ?? 0) > 0, `${k}: ${JSON.stringify([...kinds])}`);
			const out = await cli(daemon.root, 'space', '--json', 'local/waste:1');
			assert.is(out.code, 0, out.stderr);
			const s = (JSON.parse(out.stdout) as {images: ImageSpace[]}).images[0]!;
			if (driver === 'vfs') {
				assert.is(s.computed, false);
				return;
			}
			assert.is(s.computed, true, s.reason);
			assert.equal(
				s.inefficiencies.map(i => [i.path, i.count, i.cumulativeBytes]),
				[
					['/big', 2, 3000],
					['/conf', 2, 300],
				],
			);
			assert.is(s.wastedBytes, 3300);
			assert.equal(
				s.layers.map(l => l.bytes),
				[baseBytes, 3100, 200],
			);
			// Every other path is in one layer: Σ smallest = base + 0 (/big) + 100 (/conf); Σ sums = base + 3000 + 300.
			assert.is(s.efficiency, (baseBytes + 100) / (baseBytes + 3300));
			assert.is(s.wastedUserPercent, 3300 / 3300);
		} finally {
			await daemon.stop();
			await cleanup(daemon);
			fs.rmSync(work, {recursive: true, force: true});
		}
	});
}

test.run();
