// End to end against a real dockerd, for vfs, overlay2 and fuse-overlayfs: the harness builds a
// real state (test/helpers/real-states.ts), stops the daemon, and layerlens reads the root at rest;
// its model must agree with what the daemon said (docker inspect, docker image inspect, docker images).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {DRIVERS, dockerdAvailable, mountsUnder} from './helpers/dockerd.ts';
import {snapshotState, type Expected} from './helpers/real-states.ts';
import {loadModel, openSource} from '../src/load.ts';
import {cli} from './helpers/run-cli.ts';

const zero = (t: string) => (t.startsWith('0001-01-01') ? null : t);

/** The model must say what the daemon said. */
function compareWithDaemon(root: string, e: Expected, driver: string): void {
  const m = loadModel(openSource(root)).model;
  const errors = m.findings.filter(f => f.severity !== 'info');
  assert.equal(errors, [], 'a clean real state has no error or warning');
  assert.equal(m.containers.map(c => c.id).sort(), e.containers.map(c => c.Id).sort(), 'container ids');
  for (const c of e.containers) {
    const mine = m.containers.find(x => x.id === c.Id)!;
    const who = `${driver} ${c.Name}`;
    assert.is(mine.name, String(c.Name).replace(/^\//, ''), who);
    assert.is(mine.imageId, c.Image, `${who} image id`);
    assert.is(mine.imageRef, c.Config.Image, `${who} image as typed`);
    assert.is(mine.status, c.State.Status, `${who} status`);
    assert.is(mine.exitCode, c.State.ExitCode, `${who} exit code`);
    assert.is(mine.created, c.Created, `${who} created`);
    assert.is(mine.startedAt, zero(c.State.StartedAt), `${who} started`);
    assert.is(mine.finishedAt, zero(c.State.FinishedAt), `${who} finished`);
    assert.is(mine.driver, c.GraphDriver.Name, `${who} driver`);
    const data = c.GraphDriver.Data as Record<string, string>;
    const rel = (p: string) => p.replace(`${e.root}/`, '');
    if (driver === 'vfs') {
      // vfs reports no directories in GraphDriver.Data; the RW dir is vfs/dir/<mount-id>.
      assert.ok(c.GraphDriver.Data === null || data['UpperDir'] === undefined, 'vfs GraphDriver.Data has no UpperDir');
      assert.is(mine.chain[0]!.path, `vfs/dir/${mine.mountId}`);
    } else {
      // The chain's directories are UpperDir followed by the LowerDir entries, in order.
      const expected = [data['UpperDir']!, ...data['LowerDir']!.split(':')].map(rel);
      assert.equal(mine.chain.map(x => x.path), expected, `${who} chain paths = UpperDir + LowerDir`);
    }
    assert.ok(mine.chain.every(x => x.pathExists), `${who} every layer dir exists`);
    const image = e.images.find(i => i.Id === c.Image);
    assert.equal(mine.chain.filter(x => x.role === 'image').map(x => x.diffId).reverse(), image.RootFS.Layers, `${who} image layers`);
  }
  assert.equal(m.images.map(i => i.id).sort(), e.images.map(i => i.Id).sort(), 'image ids');
  for (const i of e.images) {
    const mine = m.images.find(x => x.id === i.Id)!;
    assert.equal(mine.diffIds, i.RootFS.Layers, `${i.Id} RootFS.Layers`);
    assert.equal(mine.tags, [...i.RepoTags].sort(), `${i.Id} RepoTags`);
    assert.equal(mine.digests, [...i.RepoDigests].sort(), `${i.Id} RepoDigests`);
    assert.is(mine.parent, i.Parent === '' ? null : i.Parent, `${i.Id} parent`);
    assert.is(mine.created, i.Created, `${i.Id} created`);
    assert.is(mine.size, i.Size, `${i.Id} size`);
  }
  assert.equal(m.images.filter(i => i.dangling).map(i => i.id).sort(), [...e.danglingIds].sort(), 'dangling = docker images --filter dangling=true');
  const hidden = e.images.map(i => i.Id).filter(id => !e.topLevelIds.includes(id)).sort();
  assert.equal(m.images.filter(i => i.intermediate).map(i => i.id).sort(), hidden, 'intermediate = in docker images -a, not in docker images');
  // ls --json through the real CLI agrees with docker ps -a.
  const ls = JSON.parse(cli(['ls', '--json', '--root', root]).stdout) as Array<{id: string; name: string; status: string; image: string}>;
  assert.equal(ls.map(x => [x.id, x.name, x.status]).sort(), e.ps.map(p => [p.ID, p.Names, p.State]).sort(), 'ls --json = docker ps -a');
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
      const snap = await snapshotState(driver);
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
        assert.ok(e.containers.every(c => c.GraphDriver?.Name === driver), 'GraphDriver.Name');
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
        compareWithDaemon(root, e, driver);
        assert.ok(fs.existsSync(path.join(snap.dir, 'expected.json')));
        console.log(`  ${driver}: start ${snap.timing.start} ms, state ${snap.timing.state} ms, stop ${snap.timing.stop} ms; ` +
          `${e.containers.length} containers, ${e.images.length} images${e.notes.length ? '; notes: ' + e.notes.join(' | ') : ''}`);
      } finally {
        await snap.dispose();
      }
      assert.not.ok(fs.existsSync(snap.dir), 'disposed');
    });
  }
}

test.run();
