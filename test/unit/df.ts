import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {run} from '../../src/cli.ts';
import {walkLedger} from '../../src/disk/ledger.ts';
import {buildOwners} from '../../src/disk/ledger-owners.ts';
import type {DfReport} from '../../src/disk/report.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {type Source, fail} from '../../src/sources/source.ts';
import {sampleRoot, sampleTarball} from '../helpers/check-roots.ts';
import {copyTree} from '../helpers/fake-root.ts';

async function df(argv: string[], env: Record<string, string> = {}): Promise<{code: number; out: string; err: string}> {
	let out = '';
	let err = '';
	const saved = {...process.env};
	Object.assign(process.env, env);
	try {
		const code = await run(['df', ...argv], {
			stdout: {write: (s: string) => (out += s)},
			stderr: {write: (s: string) => (err += s)},
			env: {},
		} as never);
		return {code, out, err};
	} finally {
		for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
	}
}

async function dfJson(root: string, env: Record<string, string> = {}): Promise<DfReport> {
	const r = await df(['--json', '--root', root], env);
	assert.is(r.code, 0, r.err);
	return JSON.parse(r.out) as DfReport;
}

/** The reference: st_size of every regular file and symlink under root, hard links once (as find prints them). */
function findApparent(root: string): number {
	const seen = new Set<string>();
	let total = 0;
	for (const line of execFileSync(
		'find',
		[root, '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%D:%i %n %s\\n'],
		{encoding: 'utf8', maxBuffer: 1 << 28},
	).split('\n')) {
		if (line === '') continue;
		const [ino, links, size] = line.split(' ');
		if (Number(links) > 1) {
			if (seen.has(ino!)) continue;
			seen.add(ino!);
		}
		total += Number(size);
	}
	return total;
}

/** Allocated bytes as du counts them: st_blocks × 512 of everything, directories included, hard links once. */
function duAllocated(root: string): number {
	return Number(execFileSync('du', ['-B1', '-s', root], {encoding: 'utf8'}).split('\t')[0]);
}

function balances(r: DfReport): void {
	assert.is(
		r.categories.reduce((n, c) => n + c.bytes, 0),
		r.total.bytes,
		'the categories add up to the total',
	);
	for (const c of r.categories) {
		assert.ok(
			c.bytes >= 0 && c.reclaimableBytes >= 0 && c.reclaimableBytes <= c.bytes,
			`${c.kind}: ${c.reclaimableBytes} of ${c.bytes}`,
		);
		if (c.reclaimableBytes > 0) assert.type(c.reclaimBy, 'string', `${c.kind} says how to reclaim`);
	}
}

test('the sample archive: the ledger balances, apparent bytes only, the same as on its extracted directory', async () => {
	const archive = await dfJson(sampleTarball);
	balances(archive);
	assert.is(archive.schema, 1);
	assert.is(archive.total.blocks, null, 'an archive has no block counts');
	assert.is(archive.total.unknown, 0);
	const dir = sampleRoot();
	assert.is(archive.total.bytes, findApparent(dir), 'the archive headers give what find gives on its extraction');
	const extracted = await dfJson(dir);
	balances(extracted);
	assert.equal(
		extracted.categories.map(c => [c.kind, c.bytes, c.count, c.reclaimableBytes]),
		archive.categories.map(c => [c.kind, c.bytes, c.count, c.reclaimableBytes]),
	);
	assert.equal(extracted.containers, archive.containers);
	assert.equal(extracted.images, archive.images);
	// Every category the sample has is there: its containers have RW and init layers, logs (json-file and local) and their files.
	const bytes = new Map(archive.categories.map(c => [c.kind, c.bytes]));
	for (const k of [
		'image-layer',
		'container-rw',
		'container-init',
		'container-logs',
		'container-files',
		'daemon',
		'build-cache',
	] as const)
		assert.ok(bytes.get(k)! > 0, k);
	assert.is(archive.unattributed.length, 0, JSON.stringify(archive.unattributed));
	const logs = archive.containers.find(c => c.name === 'local_logs')!;
	assert.ok(logs.logBytes > 0, "the local log driver's files are logs");
	for (const c of archive.containers)
		assert.is(c.sizeRootFs, c.sizeRw! + archive.images.find(i => i.id === c.imageId)!.size!, c.name ?? c.id);
});

test('a directory root: allocated bytes as du -B1 -s counts them (directories included), sparse files named', async () => {
	const dir = copyTree(sampleRoot());
	try {
		// A sparse file in a volume-less corner the daemon owns: 8 MiB apparent, nothing allocated.
		const sparse = `${dir}/image/overlay2/sparse-file`;
		fs.writeFileSync(sparse, '');
		fs.truncateSync(sparse, 8 << 20);
		fs.linkSync(`${dir}/image/overlay2/repositories.json`, `${dir}/image/overlay2/repositories.link`);
		for (const env of [{}, {LAYERLENS_DOOR: 'node'}]) {
			const r = await dfJson(dir, env);
			balances(r);
			assert.is(r.total.bytes, findApparent(dir), 'hard links once');
			if (r.total.blocks === null) {
				// The native reader in use predates block counts (native/door.c writes them now; rebuilt by npm install).
				assert.equal(env, {}, 'node:fs always gives block counts');
				continue;
			}
			assert.is(r.total.blocks, duAllocated(dir));
			const s = r.sparse.find(f => f.path === 'image/overlay2/sparse-file');
			assert.ok(s !== undefined && s.bytes === 8 << 20 && s.allocated < s.bytes, JSON.stringify(r.sparse));
		}
		const text = await df(['--root', dir], {LAYERLENS_DOOR: 'node'});
		assert.match(text.out, /^CATEGORY +SIZE +COUNT +RECLAIMABLE +RECLAIM BY\n/);
		assert.match(text.out, /image\/overlay2\/sparse-file +8\.39MB \/ 0B/);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

/** A Source that cannot list one directory and cannot stat one file, as an unreadable tree would. */
function hostile(source: Source, noList: string, noStat: string, fast: boolean): Source {
	const {listStats, ...rest} = source;
	const wrapped: Source = {
		...rest,
		list: rel => (rel === noList ? fail('denied', rel, 'EACCES') : source.list(rel)),
		stat: rel => (rel === noStat ? fail('denied', rel, 'EACCES') : source.stat(rel)),
	};
	if (!fast || listStats === undefined) return wrapped;
	// The fast path (a listing with its stats in one call) fails the same entries.
	return {
		...wrapped,
		listStats: rel => {
			if (rel === noList) return fail('denied', rel, 'EACCES');
			const r = listStats(rel);
			if (!r.ok) return r;
			return {
				ok: true,
				value: r.value.map(e => {
					const path = rel === '' ? e.name : `${rel}/${e.name}`;
					return path === noStat ? {...e, stat: fail('denied', path, 'EACCES')} : e;
				}),
			};
		},
	};
}

test('listStats gives what list and stat give, entry by entry, and the ledger is the same through either', () => {
	const source = openSource(sampleRoot());
	assert.ok(source.listStats !== undefined, 'the directory source has the fast path');
	const owners = buildOwners(loadModel(source).model, []);
	const stack = [''];
	let compared = 0;
	while (stack.length > 0) {
		const dir = stack.pop()!;
		const slow = source.list(dir);
		const fast = source.listStats!(dir);
		assert.ok(slow.ok && fast.ok, dir);
		if (!slow.ok || !fast.ok) continue;
		assert.equal(
			fast.value.map(e => [e.name, e.kind]),
			slow.value.map(e => [e.name, e.kind]),
		);
		for (const e of fast.value) {
			const path = dir === '' ? e.name : `${dir}/${e.name}`;
			assert.equal(e.stat, source.stat(path), path);
			compared++;
			if (e.kind === 'dir') stack.push(path);
		}
	}
	assert.ok(compared > 100, `${compared} entries compared`);
	const {listStats: _, ...plain} = source;
	assert.equal(walkLedger(source, owners), walkLedger(plain, owners));
});

test('an unreadable directory and an unsizable file: unknown size with a finding each, no crash, the rest counted', () => {
	const source = openSource(sampleRoot());
	const loaded = loadModel(source);
	const owners = buildOwners(loaded.model, []);
	const whole = walkLedger(source, owners);
	const c = loaded.model.containers.find(x => x.name === 'app_exited')!;
	const log = `containers/${c.id}/${c.id}-json.log`;
	const logSize = source.stat(log);
	assert.ok(logSize.ok && logSize.value.size > 0);
	for (const fast of [true, false]) {
		const walk = walkLedger(hostile(source, 'buildkit', log, fast), owners);
		assert.is(walk.unknown, 2);
		const codes = walk.findings.filter(f => f.code === 'disk.unknown-size').map(f => f.path);
		assert.equal(codes.sort(), ['buildkit', log].sort());
		const buildkit = [...whole.tallies.values()]
			.filter(t => t.owner.kind === 'build-cache')
			.reduce((n, t) => n + t.bytes, 0);
		assert.is(walk.bytes, whole.bytes - buildkit - (logSize.ok ? logSize.value.size : 0));
		assert.ok(walk.bytes > 0);
	}
});

test('df -v lists images, containers and volumes; usage errors for options of other commands', async () => {
	const r = await df(['-v', '--sample']);
	assert.is(r.code, 0, r.err);
	assert.match(r.out, /\nImages:\nREPOSITORY:TAG +IMAGE ID +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
	assert.match(r.out, /\nContainers:\nCONTAINER ID +NAME +STATUS +SIZE RW +SIZE ROOTFS +LOGS\n/);
	assert.match(r.out, /local_logs/);
	const plain = await df(['--sample']);
	assert.not.match(plain.out, /\nImages:/);
	const bad = await df(['--deep', '--sample']);
	assert.is(bad.code, 2);
	assert.match(bad.err, /--deep does not apply to df/);
});

test('evidence strings go through the escaper: a hostile path in "other", a hostile container name in -v; JSON keeps them exact', async () => {
	const dir = copyTree(sampleRoot());
	try {
		const evil = 'evil\u001b]52;c;ZWNobw==\u0007\u202e\u200bname';
		fs.writeFileSync(`${dir}/${evil}`, 'x'.repeat(77));
		for (const id of fs.readdirSync(`${dir}/containers`)) {
			const f = `${dir}/containers/${id}/config.v2.json`;
			const cfg = JSON.parse(fs.readFileSync(f, 'utf8')) as {Name: string};
			if (cfg.Name !== '/renamed') continue;
			cfg.Name = `/${evil}`;
			fs.writeFileSync(f, JSON.stringify(cfg));
		}
		const text = await df(['-v', '--root', dir]);
		assert.is(text.code, 0, text.err);
		assert.not.match(
			text.out,
			/[\u0000-\u0008\u000b-\u001f\u007f\u202e\u200b]/,
			'no raw control or invisible character',
		);
		assert.match(text.out, /evil\\x1b\]52;c;ZWNobw==\\x07\\u202e\\u200bname +77B/);
		const r = await dfJson(dir);
		balances(r);
		assert.equal(r.unattributed, [{path: evil, bytes: 77}]);
		assert.ok(r.containers.some(c => c.name === evil));
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test.run();
