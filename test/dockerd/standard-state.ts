// End to end against a real dockerd, for vfs, overlay2 and fuse-overlayfs: the harness builds a
// real state (test/helpers/real-states.ts, built once per run: test/helpers/shared-state.ts), stops the daemon, and layerlens reads the root at rest;
// its model must agree with what the daemon said (docker inspect, docker image inspect, docker images).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {DRIVERS, dockerdAvailable, mountsUnder} from '../helpers/dockerd.ts';
import type {Expected} from '../helpers/real-states.ts';
import {sharedSnapshot} from '../helpers/shared-state.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {cli} from '../helpers/run-cli.ts';
import {compareWithDaemon} from '../helpers/compare-daemon.ts';
import {runChecks} from '../../src/checks/index.ts';

/** The model must say what the daemon said, and ls --json through the real CLI what docker ps -a said. */
function checkRoot(root: string, e: Expected, driver: string): void {
	compareWithDaemon(loadModel(openSource(root)).model, e, driver);
	const ls = JSON.parse(cli(['ls', '--json', '--root', root]).stdout) as Array<{
		id: string;
		name: string;
		status: string;
		image: string;
	}>;
	assert.equal(
		ls.map(x => [x.id, x.name, x.status]).sort(),
		e.ps.map(p => [p.ID, p.Names, p.State]).sort(),
		'ls --json = docker ps -a',
	);
}

const avail = dockerdAvailable();

if (!avail.ok) {
	test('end to end with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: dockerd harness: ${avail.why}`);
	});
} else {
	for (const driver of DRIVERS) {
		test(`dockerd harness: standard state on ${driver}`, async () => {
			const snap = await sharedSnapshot(driver);
			try {
				const {expected: e, root} = snap;
				const byName = new Map(e.containers.map(c => [String(c.Name).replace(/^\//, ''), c]));
				for (const n of ['docker_test', 'app_exited', 'app_stopped', 'renamed', 'from_old']) {
					assert.ok(byName.has(n), `container ${n} exists`);
				}
				assert.not.ok(byName.has('old_name'), 'old_name was renamed');
				assert.is(byName.get('docker_test').State.Status, 'created');
				assert.is(byName.get('app_exited').State.Status, 'exited');
				assert.is(byName.get('app_exited').State.ExitCode, 3);
				assert.is(byName.get('app_stopped').State.Status, 'exited');
				assert.is(byName.get('from_old').Image, e.facts.danglingImageId);
				assert.is(e.ps.length, e.containers.length);
				assert.ok(
					e.containers.every(c => c.GraphDriver?.Name === driver),
					'GraphDriver.Name',
				);
				assert.is(e.info.Driver, driver);

				const dangling = e.imagesList.filter(i => i.Repository === '<none>' && i.Tag === '<none>');
				assert.ok(dangling.length > 0, 'some <none> images');
				const d = e.images.find(i => i.Id === e.facts.danglingImageId);
				assert.ok(d, 'dangling image inspected');
				assert.equal(d.RepoTags, []);
				assert.ok(!e.images.some(i => i.Parent === e.facts.danglingImageId), 'dangling image has no children');
				const app = e.images.find(i => i.Id === e.facts.appImageId);
				assert.equal([...app.RepoTags].sort(), ['local/app:1', 'local/app:latest']);
				assert.ok(app.Config.Env.includes('FOO=bar'));
				assert.is(app.Config.WorkingDir, '/app');
				assert.is(app.Config.Labels['org.example.k'], 'v');

				// at rest: layerdb mount records for every container, nothing mounted, no daemon files in use
				for (const c of e.containers) {
					const f = path.join(root, 'image', driver, 'layerdb', 'mounts', c.Id, 'mount-id');
					assert.ok(fs.existsSync(f), `${f} exists`);
					const mountId = fs.readFileSync(f, 'utf8').trim();
					const layerDir = driver === 'vfs' ? path.join(root, 'vfs', 'dir', mountId) : path.join(root, driver, mountId);
					assert.ok(fs.existsSync(layerDir), `${layerDir} exists`);
					assert.ok(fs.existsSync(path.join(root, 'containers', c.Id, 'config.v2.json')));
				}
				assert.equal(mountsUnder(root), [], 'nothing mounted under the data root after stop');
				checkRoot(root, e, driver);
				// A clean state made by the daemon: `check --deep` finds no error and no warning (every layer verifies).
				const loaded = loadModel(openSource(root));
				const report = await runChecks({model: loaded.model, raw: loaded.raw, source: loaded.source}, {deep: true});
				assert.equal(
					[
						...report.findings
							.filter(f => f.severity !== 'info')
							.map(f => `${f.severity} ${f.code} ${f.subject}: ${f.message}`),
						...report.objects.flatMap(o =>
							o.checks
								.filter(c => c.check === 'layer.content' && c.status !== 'pass')
								.map(c => `unverified ${o.subject}: ${c.note}`),
						),
					],
					[],
					`check --deep on ${driver}`,
				);
				assert.ok(fs.existsSync(path.join(snap.dir, 'expected.json')));
				console.log(
					`  ${driver}: start ${snap.timing.start} ms, state ${snap.timing.state} ms, stop ${snap.timing.stop} ms; ` +
						`${e.containers.length} containers, ${e.images.length} images${e.notes.length ? `; notes: ${e.notes.join(' | ')}` : ''}`,
				);
			} finally {
				await snap.dispose();
			}
			assert.not.ok(fs.existsSync(snap.dir), 'disposed');
		});
	}
}

test.run();
