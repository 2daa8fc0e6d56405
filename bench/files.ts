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
import zlib from 'node:zlib';
import {entryHeader, padding, trailer} from '../src/files/tar-writer.ts';
import {FakeRoot, hex} from '../test/helpers/fake-root.ts';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const PER_DIR = 500;

/**
 * The image layer's tar-split record, as docker would have written it for the same files (for
 * `files LAYER --tar-split`). Written as a multi-member gzip, a batch at a time (gunzip reads it as one stream).
 */
function writeRecordSync(file: string, n: number): void {
	fs.mkdirSync(path.dirname(file), {recursive: true});
	const fd = fs.openSync(file, 'w');
	let batch: string[] = [];
	const flush = (): void => {
		fs.writeSync(fd, zlib.gzipSync(batch.join('')));
		batch = [];
	};
	let pos = 0;
	let pad = 0;
	const line = (o: unknown): void => {
		batch.push(`${JSON.stringify(o)}\n`);
		if (batch.length >= 20_000) flush();
	};
	const put = (name: string, type: 'dir' | 'file', size: number): void => {
		const h = entryHeader({name, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, mtimeMs: 1.7e12, size});
		line({type: 2, payload: Buffer.concat([Buffer.alloc(pad), h]).toString('base64'), position: pos++});
		line({type: 1, name, ...(size > 0 ? {size} : {}), payload: size > 0 ? 'AAAAAAAAAAA=' : null, position: pos++});
		pad = padding(size);
	};
	for (let i = 0; i < n; i++) {
		const d = `img${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`;
		if (i % PER_DIR === 0) put(`${d}/`, 'dir', 0);
		put(`${d}/f${i}`, 'file', `file ${i}\n`.length);
	}
	line({type: 2, payload: Buffer.concat([Buffer.alloc(pad), trailer()]).toString('base64'), position: pos++});
	flush();
	fs.closeSync(fd);
}

function makeRoot(n: number): {root: string; container: string; layer: string; remove(): void} {
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
	writeRecordSync(r.p(`image/overlay2/layerdb/sha256/${chainId.slice(7)}/tar-split.json.gz`), n);
	fill(r.p(r.layerDir(mountId)), 'rw');
	// a few deletions of image files (0/0 character devices) when root can make them
	fs.mkdirSync(r.p(`${r.layerDir(mountId)}/img0000`));
	if (process.getuid?.() === 0)
		for (let i = 0; i < 10; i++) execFileSync('mknod', [r.p(`${r.layerDir(mountId)}/img0000/f${i}`), 'c', '0', '0']);
	return {root: r.dir, container: 'big', layer: chainId, remove: () => r.remove()};
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
	const {root, container, layer, remove} = makeRoot(n);
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
			['files LAYER --tar-split', ['files', layer, '--tar-split'], []],
			['files, heap capped at 64 MB', ['files', container], capped],
			['diff, heap capped at 64 MB', ['diff', container], capped],
			['export, heap capped at 64 MB', ['export', container, '-o', '-'], capped],
			['files --tar-split, heap capped at 64 MB', ['files', layer, '--tar-split'], capped],
		];
		for (const [name, args, flags] of cases) {
			const t = Date.now();
			const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', entry, ...args, '--root', root], {
				encoding: 'utf8',
				cwd: repo,
				maxBuffer: 64 << 20,
			});
			const m = /RESULT (.*)/.exec(r.stderr);
			if (m === null) throw new Error(`${name}: ${r.stderr.slice(0, 500)}`);
			const res = JSON.parse(m[1]!) as {code: number; bytes: number; maxRssKB: number};
			if (res.code !== 0) throw new Error(`${name}: exit ${res.code}: ${r.stderr.slice(0, 500)}`);
			rows.push({
				files: n,
				command: name,
				seconds: (Date.now() - t) / 1000,
				maxRssMB: Math.round(res.maxRssKB / 1024),
				outputBytes: res.bytes,
			});
		}
	} finally {
		if (!process.argv.includes('--keep')) remove();
	}
}
fs.rmSync(entry, {force: true});
console.log('files per layer | command | seconds | peak RSS MB | output bytes');
for (const r of rows)
	console.log(`${r.files} | ${r.command} | ${r.seconds.toFixed(1)} | ${r.maxRssMB} | ${r.outputBytes}`);
fs.writeFileSync(
	path.join(repo, 'bench', 'files-results.json'),
	`${JSON.stringify({when: new Date().toISOString(), rows}, null, 2)}\n`,
);
