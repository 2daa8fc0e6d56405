import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {type CheckReport, reshapeReport} from '../../src/checks/index.ts';
import {type Read, lookAgain} from '../../src/checks/look-again.ts';
import {type Finding, finding} from '../../src/finding.ts';
import {openSource} from '../../src/load.ts';
import {changedPaths, liveness, signature} from '../../src/sources/live.ts';

// The parts of looking again at a live root, each on its own (test/dockerd/live-root.ts runs them against
// a real dockerd at work): when a root is live, how reads are compared, what is left out and said.

const atRest = {live: false, evidence: []};
const live = {live: true, evidence: ['dockerd (pid 1) holds a lock on volumes/metadata.db']};
const still = new Map([['containers', 'dir 1 0 1']]);
const moved = new Map([['containers', 'dir 2 0 1']]);

const midOp = finding('error', 'container.layer-dir-missing', 'container:aaaa', 'its RW directory is gone');
const broken = finding('error', 'image.layer-missing', 'image:sha256:bbbb', 'a layer is not in layerdb');
const leftover = finding('info', 'orphan.dir', 'root', 'a leftover');

function reads(...sets: Array<{findings: Finding[]; before?: Map<string, string>; after?: Map<string, string>}>): {
	first: Read<number>;
	again: () => Read<number>;
	count: () => number;
} {
	let i = 0;
	const make = (n: number): Read<number> => ({
		value: n,
		findings: sets[n]!.findings,
		before: sets[n]!.before ?? still,
		after: sets[n]!.after ?? still,
	});
	return {
		first: make(0),
		again: () => make(Math.min(++i, sets.length - 1)),
		count: () => i + 1,
	};
}

test('a root at rest is read once, errors and all: nothing is left out, nothing added', async () => {
	const r = reads({findings: [midOp, broken]}, {findings: []});
	const out = await lookAgain(r.first, r.again, {live: atRest, pauseMs: 0});
	assert.is(out.value, 0);
	assert.is(out.reads, 1);
	assert.is(r.count(), 1, 'never read again');
	assert.equal(out.extra, []);
	assert.ok(out.keep(midOp) && out.keep(broken));
});

test('a live root: a finding that goes away on a second look is left out and named; a real one stays', async () => {
	const r = reads(
		{findings: [midOp, broken, leftover]},
		{findings: [broken, leftover]},
		{findings: [broken, leftover]},
	);
	const out = await lookAgain(r.first, r.again, {live, pauseMs: 0});
	assert.is(out.value, 2, 'read until two reads agree');
	assert.ok(out.keep(broken));
	assert.equal(
		out.extra.map(f => f.code),
		['root.live', 'root.changed-while-read'],
	);
	assert.match(out.extra[0]!.message, /dockerd \(pid 1\) holds a lock on volumes\/metadata\.db/);
	assert.match(
		out.extra[1]!.message,
		/read 3 times, 0 ms apart; left out as mid-operation, gone on a later read: container\.layer-dir-missing on container:aaaa/,
	);
	assert.not.match(out.extra[1]!.message, /image\.layer-missing/);
});

test('a live root without errors is read once and said to be live; one whose errors hold still keeps them', async () => {
	const clean = reads({findings: [leftover]});
	const a = await lookAgain(clean.first, clean.again, {live, pauseMs: 0});
	assert.is(a.reads, 1);
	assert.equal(
		a.extra.map(f => f.code),
		['root.live'],
	);
	const stuck = reads({findings: [broken]}, {findings: [broken]});
	const b = await lookAgain(stuck.first, stuck.again, {live, pauseMs: 0});
	assert.is(b.reads, 2);
	assert.ok(b.keep(broken));
	assert.equal(
		b.extra.map(f => f.code),
		['root.live'],
		'no change seen, nothing left out',
	);
});

test('reads that never agree: what the last read alone has is left out, named, and the user told to run check again', async () => {
	const other = finding('error', 'driver.link-broken', 'container:cccc', 'no l/ entry');
	const r = reads({findings: [midOp]}, {findings: [other]}, {findings: [midOp]}, {findings: [other]});
	const out = await lookAgain(r.first, r.again, {live, pauseMs: 0, tries: 3});
	assert.is(out.reads, 4);
	assert.is(out.value, 3);
	assert.not.ok(out.keep(other));
	const said = out.extra.find(f => f.code === 'root.changed-while-read')!.message;
	assert.match(said, /seen in the last read only: driver\.link-broken on container:cccc/);
	assert.match(said, /gone on a later read: container\.layer-dir-missing on container:aaaa/);
	assert.match(said, /the reads never agreed: run check again when the daemon is idle/);
});

test('a root that changed while it was read is looked at again even when nothing holds it (a copy being written)', async () => {
	const r = reads({findings: [midOp], before: still, after: moved}, {findings: [], before: moved, after: moved});
	const out = await lookAgain(r.first, r.again, {live: atRest, pauseMs: 0});
	assert.is(out.reads, 2);
	assert.equal(
		out.extra.map(f => f.code),
		['root.changed-while-read'],
	);
	assert.match(out.extra[0]!.message, /^the root changed while it was read \(containers\/\); read 2 times/);
	assert.equal(changedPaths(still, moved), ['containers']);
	assert.equal(changedPaths(still, new Map()), ['containers']);
});

test('warnings are looked at again too; infos only with --fail-on info', async () => {
	const warn = finding('warning', 'mount.init-id-unusual', 'mount:aaaa', 'mid-create');
	const r = reads({findings: [warn]}, {findings: []});
	assert.is((await lookAgain(r.first, r.again, {live, pauseMs: 0})).reads, 2);
	const i = reads({findings: [leftover]}, {findings: []});
	assert.is((await lookAgain(i.first, i.again, {live, pauseMs: 0})).reads, 1);
	const j = reads({findings: [leftover]}, {findings: []});
	assert.is((await lookAgain(j.first, j.again, {live, pauseMs: 0, level: 'info'})).reads, 2);
});

test('reshapeReport: left-out findings leave their objects and counts; the root-level ones come under "live"', () => {
	const report: CheckReport = {
		root: '/r',
		deep: false,
		objects: [
			{
				subject: 'container:aaaa',
				kind: 'container',
				label: 'c',
				status: 'fail',
				checks: [{subject: 'container:aaaa', check: 'read', status: 'fail', findings: [midOp]}],
			},
			{
				subject: 'image:sha256:bbbb',
				kind: 'image',
				label: 'i',
				status: 'fail',
				checks: [{subject: 'image:sha256:bbbb', check: 'read', status: 'fail', findings: [broken]}],
			},
		],
		findings: [broken, midOp],
		summary: {error: 2, warning: 0, info: 0, passed: 0, failed: 2, skipped: 0, objects: 2},
	};
	const extra = [finding('info', 'root.changed-while-read', 'root', 'x')];
	const out = reshapeReport(report, f => f !== midOp, extra);
	assert.equal(out.summary, {error: 1, warning: 0, info: 1, passed: 1, failed: 2, skipped: 0, objects: 3});
	assert.is(out.objects[0]!.subject, 'root');
	assert.is(out.objects[0]!.checks[0]!.check, 'live');
	assert.is(out.objects.find(o => o.subject === 'container:aaaa')!.status, 'pass');
	assert.equal(
		out.findings.map(f => f.code),
		['image.layer-missing', 'root.changed-while-read'],
	);
});

test("liveness: a lock on one of the root's databases (by device and inode) or a mount under it; else not live", () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-live-'));
	try {
		const root = path.join(dir, 'root');
		fs.mkdirSync(path.join(root, 'volumes'), {recursive: true});
		fs.mkdirSync(path.join(root, 'containers'));
		fs.writeFileSync(path.join(root, 'volumes', 'metadata.db'), 'x');
		const real = fs.realpathSync(root);
		const ino = fs.statSync(path.join(root, 'volumes', 'metadata.db')).ino;
		const proc = path.join(dir, 'proc');
		fs.mkdirSync(path.join(proc, 'self'), {recursive: true});
		fs.mkdirSync(path.join(proc, '4242'));
		fs.writeFileSync(path.join(proc, '4242', 'comm'), 'dockerd\n');
		const mount = (point: string, dev: string, fstype = 'ext4', opts = 'rw') =>
			`36 25 ${dev} / ${point.replace(/ /g, '\\040')} rw,relatime shared:1 - ${fstype} /dev/x ${opts}`;
		const source = openSource(root);
		const set = (mountinfo: string[], locks: string[]) => {
			fs.writeFileSync(path.join(proc, 'self', 'mountinfo'), `${mountinfo.join('\n')}\n`);
			fs.writeFileSync(path.join(proc, 'locks'), `${locks.join('\n')}\n`);
		};
		set([mount('/', '254:0')], []);
		assert.equal(liveness(source, proc), {live: false, evidence: []});
		// A lock on another device's inode of the same number: not this file.
		set([mount('/', '254:0')], [`1: FLOCK  ADVISORY  WRITE 4242 fd:01:${ino} 0 EOF`]);
		assert.is(liveness(source, proc).live, false);
		set([mount('/', '254:0')], [`1: FLOCK  ADVISORY  WRITE 4242 fe:00:${ino} 0 EOF`]);
		assert.equal(liveness(source, proc), {
			live: true,
			evidence: ['dockerd (pid 4242) holds a lock on volumes/metadata.db'],
		});
		// The deepest mount holding the root names its device.
		set([mount('/', '8:1'), mount(real, '254:0')], [`1: FLOCK  ADVISORY  WRITE 4242 fe:00:${ino} 0 EOF`]);
		assert.is(liveness(source, proc).live, true);
		// A running container: its merged view mounted under the root, or an overlay on its layers.
		set([mount('/', '8:1'), mount(`${real}/overlay2/abc/merged`, '0:50', 'overlay')], []);
		assert.equal(liveness(source, proc).evidence, ['1 mount under it or on its layers (overlay2/abc/merged)']);
		set(
			[
				mount('/', '8:1'),
				mount('/elsewhere', '0:50', 'overlay', `rw,lowerdir=/x:${real}/overlay2/l/AB,upperdir=/u,workdir=/w`),
			],
			[],
		);
		assert.equal(liveness(source, proc).evidence, [
			'1 mount under it or on its layers ((an overlay mounted at /elsewhere))',
		]);
		// A sibling whose name starts like the root is not under it.
		set([mount('/', '8:1'), mount(`${real}2/merged`, '0:50', 'overlay')], []);
		assert.is(liveness(source, proc).live, false);
		// The signature: stat only; containers/<id> and its config with perContainer.
		fs.mkdirSync(path.join(root, 'containers', 'c1'));
		const a = signature(source, true);
		assert.ok(
			a.has('containers/c1') && a.get('containers/c1/config.v2.json') === 'absent' && a.get('image') === 'absent',
		);
		assert.not.ok(signature(source, false).has('containers/c1'));
		fs.writeFileSync(path.join(root, 'containers', 'c1', 'config.v2.json'), '{}');
		assert.ok(changedPaths(a, signature(source, true)).includes('containers/c1/config.v2.json'));
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test.run();
