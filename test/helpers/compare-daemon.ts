// Compares layerlens's model of a root at rest with what the real dockerd said about it
// (test/helpers/real-states.ts captures): the oracle for the end-to-end and sample tests.
import * as assert from 'uvu/assert';
import type {Container, Model} from '../../src/model/types.ts';
import type {Expected} from './real-states.ts';

const zero = (t: string) => (t.startsWith('0001-01-01') ? null : t);

/** One container against its `docker inspect`: name, image, state, times and driver. */
export function compareContainer(mine: Container, c: any, who: string): void {
	assert.is(mine.name, String(c.Name).replace(/^\//, ''), who);
	assert.is(mine.imageId, c.Image, `${who} image id`);
	assert.is(mine.imageRef, c.Config.Image, `${who} image as typed`);
	assert.is(mine.status, c.State.Status, `${who} status`);
	assert.is(mine.exitCode, c.State.ExitCode, `${who} exit code`);
	assert.is(mine.created, c.Created, `${who} created`);
	assert.is(mine.startedAt, zero(c.State.StartedAt), `${who} started`);
	assert.is(mine.finishedAt, zero(c.State.FinishedAt), `${who} finished`);
	assert.is(mine.driver, c.GraphDriver.Name, `${who} driver`);
}

/** The model must say what the daemon said. */
export function compareWithDaemon(m: Model, e: Expected, driver: string): void {
	const errors = m.findings.filter(f => f.severity !== 'info');
	assert.equal(errors, [], 'a clean real state has no error or warning');
	assert.equal(m.containers.map(c => c.id).sort(), e.containers.map(c => c.Id).sort(), 'container ids');
	for (const c of e.containers) {
		const mine = m.containers.find(x => x.id === c.Id)!;
		const who = `${driver} ${c.Name}`;
		compareContainer(mine, c, who);
		const data = c.GraphDriver.Data as Record<string, string>;
		const rel = (p: string) => p.replace(`${e.root}/`, '');
		if (driver === 'vfs' || driver === 'btrfs') {
			// vfs and btrfs report no directories in GraphDriver.Data (btrfs: Data is null); the RW dir is
			// vfs/dir/<mount-id> or btrfs/subvolumes/<mount-id>.
			assert.ok(
				c.GraphDriver.Data === null || data.UpperDir === undefined,
				`${driver} GraphDriver.Data has no UpperDir`,
			);
			assert.is(mine.chain[0]!.path, driver === 'vfs' ? `vfs/dir/${mine.mountId}` : `btrfs/subvolumes/${mine.mountId}`);
		} else {
			// The chain's directories are UpperDir followed by the LowerDir entries, in order.
			const expected = [data.UpperDir!, ...data.LowerDir!.split(':')].map(rel);
			assert.equal(
				mine.chain.map(x => x.path),
				expected,
				`${who} chain paths = UpperDir + LowerDir`,
			);
		}
		assert.ok(
			mine.chain.every(x => x.pathExists),
			`${who} every layer dir exists`,
		);
		const image = e.images.find(i => i.Id === c.Image);
		assert.equal(
			mine.chain
				.filter(x => x.role === 'image')
				.map(x => x.diffId)
				.reverse(),
			image.RootFS.Layers,
			`${who} image layers`,
		);
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
	assert.equal(
		m.images
			.filter(i => i.dangling)
			.map(i => i.id)
			.sort(),
		[...e.danglingIds].sort(),
		'dangling = docker images --filter dangling=true',
	);
	const hidden = e.images
		.map(i => i.Id)
		.filter(id => !e.topLevelIds.includes(id))
		.sort();
	assert.equal(
		m.images
			.filter(i => i.intermediate)
			.map(i => i.id)
			.sort(),
		hidden,
		'intermediate = in docker images -a, not in docker images',
	);
}
