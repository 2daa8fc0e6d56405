// Memory of `files`, `diff` and `export` on big layers: a generated overlay2 root whose image
// layer and container RW layer each hold N files (N = 10 000 and 100 000, in directories of 500),
// plus whiteouts. Each command runs in its own process (src/cli.ts through tsx) and reports its
// peak RSS (process.resourceUsage().maxRSS); "flat" means the 100 000-file figure is close to
// the 10 000-file one.
//
//   node --import tsx bench/files.ts [--keep]
import {execFileSync, spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {FakeRoot, hex} from '../test/helpers/fake-root.ts';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const PER_DIR = 500;

function makeRoot(n: number): {root: string; container: string; remove(): void} {
	const r = new FakeRoot('overlay2');
	const base = {diffId: `sha256:${hex(`files-bench-base-${n}`)}`, cacheId: hex(`files-bench-cache-${n}`)};
	const image = r.addImage({layers: [base], tags: ['bench/files:1']});
	const chainId = base.diffId;
	const mountId = hex(`files-bench-mount-${n}`);
	r.addContainer({id: hex(`files-bench-container-${n}`), name: 'big', image, mountId}, chainId);
	const fill = (dir: string, prefix: string): void => {
		for (let i = 0; i < n; i++) {
			const d = path.join(dir, `${prefix}${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`);
			if (i % PER_DIR === 0) fs.mkdirSync(d, {recursive: true});
			fs.writeFileSync(path.join(d, `f${i}`), `file ${i}\n`);
		}
	};
	fill(r.p(r.layerDir(base.cacheId)), 'img');
	fill(r.p(r.layerDir(mountId)), 'rw');
	// a few deletions of image files (0/0 character devices) when root can make them
	fs.mkdirSync(r.p(`${r.layerDir(mountId)}/img0000`));
	if (process.getuid?.() === 0) for (let i = 0; i < 10; i++) execFileSync('mknod', [r.p(`${r.layerDir(mountId)}/img0000/f${i}`), 'c', '0', '0']);
	return {root: r.dir, container: 'big', remove: () => r.remove()};
}

const entry = path.join(os.tmpdir(), `layerlens-files-bench-${process.pid}.mts`);
fs.writeFileSync(
	entry,
	`import {run} from ${JSON.stringify(path.join(repo, 'src', 'cli.ts'))};\n` +
		`import fs from 'node:fs';\n` +
		`const out = fs.openSync('/dev/null', 'w');\n` +
		`let bytes = 0;\n` +
		`const code = await run(process.argv.slice(2), {stdout: {write: (s) => { bytes += s.length; fs.writeSync(out, s); return true; }}, stderr: {write: (s) => process.stderr.write(s)}, env: {}});\n` +
		`process.stderr.write('RESULT ' + JSON.stringify({code, bytes, maxRssKB: process.resourceUsage().maxRSS}) + '\\n');\n`,
);

type Row = {files: number; command: string; seconds: number; maxRssMB: number; outputBytes: number};
const rows: Row[] = [];
// Baseline: the same process doing nothing but loading the CLI (`ls`).
for (const n of [10_000, 100_000]) {
	const t0 = Date.now();
	const {root, container, remove} = makeRoot(n);
	console.log(`generated ${n} + ${n} files in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	try {
		// The same commands with the V8 heap capped at 64 MB: they still finish, so what they keep does not grow with N.
		const capped = ['--max-old-space-size=64'];
		const cases: Array<[string, string[], string[]]> = [
			['ls (baseline)', ['ls'], []],
			['files CONTAINER', ['files', container], []],
			['files CONTAINER --json', ['files', container, '--json'], []],
			['diff CONTAINER', ['diff', container], []],
			['export CONTAINER -o -', ['export', container, '-o', '-'], []],
			['files, heap capped at 64 MB', ['files', container], capped],
			['diff, heap capped at 64 MB', ['diff', container], capped],
			['export, heap capped at 64 MB', ['export', container, '-o', '-'], capped],
		];
		for (const [name, args, flags] of cases) {
			const t = Date.now();
			const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', entry, ...args, '--root', root], {encoding: 'utf8', cwd: repo, maxBuffer: 64 << 20});
			const m = /RESULT (.*)/.exec(r.stderr);
			if (m === null) throw new Error(`${name}: ${r.stderr.slice(0, 500)}`);
			const res = JSON.parse(m[1]!) as {code: number; bytes: number; maxRssKB: number};
			if (res.code !== 0) throw new Error(`${name}: exit ${res.code}: ${r.stderr.slice(0, 500)}`);
			rows.push({files: n, command: name, seconds: (Date.now() - t) / 1000, maxRssMB: Math.round(res.maxRssKB / 1024), outputBytes: res.bytes});
		}
	} finally {
		if (!process.argv.includes('--keep')) remove();
	}
}
fs.rmSync(entry, {force: true});
console.log('files per layer | command | seconds | peak RSS MB | output bytes');
for (const r of rows) console.log(`${r.files} | ${r.command} | ${r.seconds.toFixed(1)} | ${r.maxRssMB} | ${r.outputBytes}`);
fs.writeFileSync(path.join(repo, 'bench', 'files-results.json'), JSON.stringify({when: new Date().toISOString(), rows}, null, 2) + '\n');
