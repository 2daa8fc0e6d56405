// Usage: node --import tsx scripts/make-real-state.ts DRIVER OUTDIR
// Builds the standard real Docker state with a private dockerd (vfs | overlay2 |
// fuse-overlayfs), stops it, and copies the at-rest data root to OUTDIR/data
// (xattrs, whiteout device nodes, ownership preserved) with OUTDIR/expected.json.
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {DRIVERS, dockerdAvailable, type Driver} from '../test/helpers/dockerd.ts';
import {snapshotState} from '../test/helpers/real-states.ts';

function usage(msg: string): never {
	console.error(`${msg}\nusage: make-real-state DRIVER OUTDIR   (DRIVER: ${DRIVERS.join(' | ')})`);
	process.exit(2);
}

function copyTree(from: string, to: string): Promise<void> {
	const tarArgs = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner'];
	return new Promise((resolve, reject) => {
		const src = spawn('tar', [...tarArgs, '-cpf', '-', '-C', from, '.'], {stdio: ['ignore', 'pipe', 'inherit']});
		const dst = spawn('tar', [...tarArgs, '-xpf', '-', '-C', to], {stdio: ['pipe', 'inherit', 'inherit']});
		src.stdout.pipe(dst.stdin);
		let pending = 2;
		let failed = '';
		const done = (who: string) => (code: number | null) => {
			if (code !== 0) failed += `${who} tar exited ${code}; `;
			if (--pending === 0) failed ? reject(new Error(failed)) : resolve();
		};
		src.on('exit', done('source'));
		dst.on('exit', done('target'));
		src.on('error', reject);
		dst.on('error', reject);
	});
}

const [driverArg, outArg] = process.argv.slice(2);
if (!driverArg || !outArg) usage('missing arguments');
if (!(DRIVERS as readonly string[]).includes(driverArg)) usage(`unknown driver ${driverArg}`);
const driver = driverArg as Driver;
const out = path.resolve(outArg);
if (fs.existsSync(out) && fs.readdirSync(out).length > 0) usage(`${out} exists and is not empty`);
const avail = dockerdAvailable();
if (!avail.ok) {
	console.error(`cannot run dockerd: ${avail.why}`);
	process.exit(1);
}

const snap = await snapshotState(driver);
try {
	const data = path.join(out, 'data');
	fs.mkdirSync(data, {recursive: true});
	await copyTree(snap.root, data);
	fs.writeFileSync(path.join(out, 'expected.json'), `${JSON.stringify(snap.expected, null, 2)}\n`);
	const e = snap.expected;
	console.log(`made ${driver} state in ${snap.timing.start + snap.timing.state + snap.timing.stop} ms:`);
	console.log(`  ${data}  (data root; captured at ${e.root}, paths in expected.json refer to that)`);
	console.log(`  ${path.join(out, 'expected.json')}`);
	console.log(`  containers: ${Object.keys(e.facts.containerIds).sort().join(', ')}`);
	console.log(
		`  images: ${e.images.length} (app ${e.facts.appImageId.slice(7, 19)}, dangling ${e.facts.danglingImageId.slice(7, 19)})`,
	);
	for (const n of e.notes) console.log(`  note: ${n}`);
} finally {
	await snap.dispose();
}
