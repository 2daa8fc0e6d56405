// The standard real-daemon state (real-states.ts's makeStandardState) built once per driver and shared by
// the suites that start from it: at rest in a cache directory, of which each suite gets its own copy
// (`cp -a`, whiteouts and xattrs kept), so that no suite sees what another did.
//
// Under `npm test` the cache is LAYERLENS_STATE_CACHE, made by scripts/run-tests.ts for the run and removed
// by it at the end and on SIGINT/SIGTERM, so the suites of one run share it across their processes. A
// suite run alone gets a cache of its own for its process, removed at exit and on SIGINT/SIGTERM.
// Two suites that need a state not yet cached at the same moment both build it; the first to finish
// keeps its copy in the cache (a rename), the other uses its own: never a half-built state.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {mountsUnder, startDockerd, type Daemon, type Driver} from './dockerd.ts';
import {snapshotState, type Expected, type Snapshot} from './real-states.ts';

type Cached = {dir: string; expected: Expected; timing: Snapshot['timing']};

let ownCache: string | undefined;

function cacheDir(): string {
	const shared = process.env.LAYERLENS_STATE_CACHE;
	if (shared !== undefined && shared !== '') return shared;
	if (ownCache !== undefined) return ownCache;
	const dir = fs.mkdtempSync(path.join('/tmp', 'layerlens-states-'));
	ownCache = dir;
	const remove = () => fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
	process.on('exit', remove);
	for (const [signal, code] of [
		['SIGINT', 130],
		['SIGTERM', 143],
	] as const) {
		process.on(signal, () => {
			remove();
			// Another handler (a suite's own cleanup) decides when to exit; alone, this one does.
			if (process.listenerCount(signal) === 1) process.exit(code);
		});
	}
	return dir;
}

function readCached(dir: string): Cached | undefined {
	try {
		const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
		const timing = JSON.parse(fs.readFileSync(path.join(dir, 'timing.json'), 'utf8')) as Snapshot['timing'];
		return {dir, expected, timing};
	} catch {
		return undefined;
	}
}

const building = new Map<Driver, Promise<Cached>>();

/** The standard state on `driver`, at rest in the cache (built now if no suite of this run built it yet). */
function cachedState(driver: Driver): Promise<Cached> {
	let p = building.get(driver);
	if (p === undefined) {
		p = buildOnce(driver);
		building.set(driver, p);
		p.catch(() => building.delete(driver));
	}
	return p;
}

async function buildOnce(driver: Driver): Promise<Cached> {
	const dir = path.join(cacheDir(), `standard-${driver}`);
	const ready = readCached(dir);
	if (ready !== undefined) return ready;
	const snap = await snapshotState(driver);
	if (mountsUnder(snap.dir).length > 0)
		throw new Error(`${driver}: something is still mounted under ${snap.dir} at rest`);
	fs.writeFileSync(path.join(snap.dir, 'timing.json'), `${JSON.stringify(snap.timing)}\n`);
	try {
		fs.renameSync(snap.dir, dir);
	} catch {
		// Another suite of this run cached it first: use theirs, drop ours.
		await snap.dispose();
		const theirs = readCached(dir);
		if (theirs === undefined) throw new Error(`${driver}: the cached state at ${dir} cannot be read`);
		return theirs;
	}
	return {dir, expected: snap.expected, timing: snap.timing};
}

/** A private copy of the cached state's data root, as `<new dir>/data`. */
function copyOf(c: Cached): string {
	const dir = fs.mkdtempSync(path.join('/tmp', 'll-'));
	execFileSync('cp', ['-a', path.join(c.dir, 'data'), path.join(dir, 'data')]);
	fs.copyFileSync(path.join(c.dir, 'expected.json'), path.join(dir, 'expected.json'));
	return dir;
}

/**
 * The standard state on `driver`, at rest, in a folder of the caller's own (as snapshotState gives it):
 * `expected` is what the daemon said when the state was made (its `root` is the data root of that
 * moment, which paths in the captures point under), `timing` how long making it took.
 */
export async function sharedSnapshot(driver: Driver): Promise<Snapshot> {
	const c = await cachedState(driver);
	const dir = copyOf(c);
	return {
		root: path.join(dir, 'data'),
		dir,
		expected: c.expected,
		timing: c.timing,
		dispose: async () => {
			for (const mp of mountsUnder(dir)) spawnSync('umount', ['-l', mp]);
			fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
		},
	};
}

/**
 * A private dockerd running on a copy of the standard state on `driver` (for a suite that adds to it);
 * `expected` is what the daemon said when the state was made. Stop and remove it with cleanup(daemon).
 */
export async function sharedDaemon(driver: Driver): Promise<{daemon: Daemon; expected: Expected}> {
	const c = await cachedState(driver);
	const dir = copyOf(c);
	try {
		return {daemon: await startDockerd({driver, dir}), expected: c.expected};
	} catch (e) {
		fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
		throw e;
	}
}
