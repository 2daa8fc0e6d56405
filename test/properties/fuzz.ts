import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {run} from '../../src/cli.ts';
import {loadModel, openSource} from '../../src/load.ts';
import type {Container, Model} from '../../src/model/types.ts';
import {real} from '../helpers/check-roots.ts';
import {copyTree} from '../helpers/fake-root.ts';
import {realRoot} from '../helpers/real-fixtures.ts';
import {cli} from '../helpers/run-cli.ts';
import {rng} from '../helpers/rng.ts';

// Random damage to copies of real states: delete, truncate, corrupt, swap, symlink out.
// Every run must end with a documented exit code and no stack trace, and every container whose
// own files were untouched must still be reported as before. Seeded: FUZZ_SEED=n reproduces a run.

/** Paths that damage can hit: the metadata areas and the top of the driver directories. */
function targets(root: string): string[] {
	const out: string[] = [];
	const walk = (rel: string, depth: number) => {
		for (const e of fs.readdirSync(path.join(root, rel), {withFileTypes: true})) {
			const r = rel === '' ? e.name : `${rel}/${e.name}`;
			out.push(r);
			if (e.isDirectory() && depth < 6 && !/^(aufs\/diff|aufs\/mnt|overlay2|vfs\/dir)\/[^/]+$/.test(r))
				walk(r, depth + 1);
		}
	};
	walk('', 0);
	return out.filter(p => /^(containers|image|aufs|overlay2|vfs)(\/|$)/.test(p));
}

type Damage = {kind: string; paths: string[]};

function damage(root: string, pick: () => number, outside: string): Damage {
	const all = targets(root);
	const one = () => all[Math.floor(pick() * all.length)]!;
	const kinds = ['delete', 'truncate', 'corrupt', 'swap', 'symlink-out', 'garbage-json'];
	const kind = kinds[Math.floor(pick() * kinds.length)]!;
	const p = one();
	const abs = path.join(root, p);
	const st = fs.lstatSync(abs);
	switch (kind) {
		case 'delete':
			fs.rmSync(abs, {recursive: true, force: true});
			return {kind, paths: [p]};
		case 'truncate':
			if (!st.isFile()) return damage(root, pick, outside);
			fs.truncateSync(abs, Math.floor(pick() * st.size));
			return {kind, paths: [p]};
		case 'corrupt': {
			if (!st.isFile() || st.size === 0) return damage(root, pick, outside);
			const buf = fs.readFileSync(abs);
			for (let i = 0; i < 1 + Math.floor(pick() * 8); i++)
				buf[Math.floor(pick() * buf.length)] = Math.floor(pick() * 256);
			fs.writeFileSync(abs, buf);
			return {kind, paths: [p]};
		}
		case 'swap': {
			const q = one();
			const absQ = path.join(root, q);
			if (!st.isFile() || !fs.lstatSync(absQ).isFile() || p === q) return damage(root, pick, outside);
			const a = fs.readFileSync(abs);
			fs.writeFileSync(abs, fs.readFileSync(absQ));
			fs.writeFileSync(absQ, a);
			return {kind, paths: [p, q]};
		}
		case 'symlink-out':
			fs.rmSync(abs, {recursive: true, force: true});
			fs.symlinkSync(st.isDirectory() ? outside : path.join(outside, 'config.v2.json'), abs);
			return {kind, paths: [p]};
		default: {
			if (!st.isFile()) return damage(root, pick, outside);
			const garbage =
				pick() < 0.5 ? '['.repeat(100000) : Buffer.from(Array.from({length: 512}, () => Math.floor(pick() * 256)));
			fs.writeFileSync(abs, garbage);
			return {kind, paths: [p]};
		}
	}
}

/** Puts damaged paths back as they were in the original tree. */
function restore(original: string, copy: string, paths: string[]): void {
	for (const p of paths) {
		fs.rmSync(path.join(copy, p), {recursive: true, force: true});
		if (!fs.existsSync(path.join(original, p)) && !isLink(path.join(original, p))) continue;
		fs.mkdirSync(path.dirname(path.join(copy, p)), {recursive: true});
		execFileSync('cp', ['-a', path.join(original, p), path.join(copy, p)]);
	}
}

function isLink(p: string): boolean {
	try {
		return fs.lstatSync(p).isSymbolicLink();
	} catch {
		return false;
	}
}

/** The files a container's report depends on. */
function ownFiles(_m: Model, c: Container): string[] {
	const store = `image/${c.driver}`;
	const files = [`containers/${c.id}`, `${store}/layerdb/mounts/${c.id}`];
	for (const e of c.chain) {
		if (e.path !== null) files.push(e.path.replace(/\/diff$/, ''));
		if (e.chainId !== undefined) files.push(`${store}/layerdb/sha256/${e.chainId.slice(7)}`);
	}
	return files;
}

function touches(damaged: string[], own: string[]): boolean {
	// Damage to a path, to anything inside it, or to a directory above it.
	return damaged.some(d => own.some(o => d === o || d.startsWith(`${o}/`) || o.startsWith(`${d}/`)));
}

const summary = (c: Container) => ({
	name: c.name,
	status: c.status,
	imageId: c.imageId,
	chain: c.chain.map(e => [e.role, e.cacheId, e.path]),
});

function silentIo() {
	let out = '';
	let err = '';
	return {
		io: {stdout: {write: (s: string) => (out += s)}, stderr: {write: (s: string) => (err += s)}, env: {}},
		out: () => out,
		err: () => err,
	};
}

const seed0 = Number(process.env.FUZZ_SEED ?? 20261129);
const rounds = Number(process.env.FUZZ_ROUNDS ?? 60);

for (const name of ['aufs', 'overlay2'] as const) {
	test(`fuzz ${name}: ${rounds} damaged copies, every command survives, untouched containers unchanged`, async () => {
		const real = realRoot(name);
		if (real === null) return console.log('  (skipped: no real fixtures here)');
		const before = loadModel(openSource(real)).model;
		const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-outside-'));
		fs.writeFileSync(path.join(outside, 'config.v2.json'), '{"ID":"outside","Name":"/outside"}');
		try {
			// One copy; each round damages it, then puts the damaged paths back from the original.
			const copy = copyTree(real);
			for (let round = 0; round < rounds; round++) {
				const seed = seed0 + round;
				const pick = rng(seed);
				const damaged: Damage[] = [];
				try {
					for (let k = 0; k < 1 + Math.floor(pick() * 3); k++) damaged.push(damage(copy, pick, outside));
					const where = `seed ${seed}: ${damaged.map(d => `${d.kind} ${d.paths.join(' & ')}`).join('; ')}`;
					for (const argv of [
						['model'],
						['tree'],
						['ls'],
						['images', '--json'],
						['inspect', before.containers[0]!.id],
					]) {
						const s = silentIo();
						const code = await run([...argv, '--root', copy], s.io);
						assert.ok(code === 0 || code === 2, `${where}: ${argv[0]} exited ${code}: ${s.err()}`);
						assert.not.match(s.err(), /internal error|\n\s+at /, where);
					}
					const after = loadModel(openSource(copy)).model;
					const paths = damaged.flatMap(d => d.paths);
					for (const c of before.containers) {
						if (touches(paths, ownFiles(before, c))) continue;
						const now = after.containers.find(x => x.id === c.id);
						assert.ok(now !== undefined, `${where}: untouched container ${c.name} is gone`);
						assert.equal(summary(now), summary(c), `${where}: untouched container ${c.name} changed`);
					}
					// Nothing outside the root was read as if it were evidence.
					assert.not.ok(
						after.containers.some(c => c.name === 'outside'),
						`${where}: followed a symlink out of the root`,
					);
				} finally {
					restore(
						real,
						copy,
						damaged.flatMap(d => d.paths),
					);
				}
			}
			fs.rmSync(copy, {recursive: true, force: true});
		} finally {
			fs.rmSync(outside, {recursive: true, force: true});
		}
	});
}

/** Hostile shapes (size, nesting, keys, numbers, trailing data, ids): each names the finding it must give, on the damaged path. */
type Shape = Damage & {expect?: {code: string; path: string}};

const jsonFile =
	/^(containers\/[0-9a-f]{64}\/(config\.v2|hostconfig)\.json|image\/[^/]+\/imagedb\/content\/sha256\/[0-9a-f]{64}|image\/[^/]+\/repositories\.json)$/;
const idFile = /^image\/[^/]+\/layerdb\/(sha256\/[0-9a-f]{64}\/cache-id|mounts\/[0-9a-f]{64}\/(mount-id|init-id))$/;
const strayDirs =
	/^(containers|image\/[^/]+\/layerdb\/(sha256|mounts)|image\/[^/]+\/imagedb\/content\/sha256|volumes)$/;
/** dockerd reads these with json.Decoder (the first value); the rest with json.Unmarshal. */
const firstValue = /(config\.v2|hostconfig|repositories)\.json$/;

function shape(root: string, pick: () => number): Shape {
	const all = targets(root);
	const choose = (re: RegExp) => {
		const some = all.filter(p => re.test(p) && fs.lstatSync(path.join(root, p)).isFile());
		return some.length === 0 ? undefined : some[Math.floor(pick() * some.length)]!;
	};
	const kinds = ['deep', 'big-number', 'proto-keys', 'trailing', 'bad-id', 'strays'] as const;
	const kind = kinds[Math.floor(pick() * kinds.length)]!;
	if (kind === 'strays') {
		const dirs = [...all, ...(fs.existsSync(path.join(root, 'volumes')) ? ['volumes'] : [])].filter(p =>
			strayDirs.test(p),
		);
		const d = dirs[Math.floor(pick() * dirs.length)]!;
		const paths = Array.from({length: 150 + Math.floor(pick() * 100)}, (_, i) => `${d}/stray-${i}`);
		for (const p of paths) fs.writeFileSync(path.join(root, p), '');
		return {kind, paths, expect: {code: 'entry.list-capped', path: d}};
	}
	if (kind === 'bad-id') {
		const p = choose(idFile);
		if (p === undefined) return shape(root, pick);
		const bad = ['..', '.', '', 'a/b', 'x\u0000y', ' ..\n'][Math.floor(pick() * 6)]!;
		fs.writeFileSync(path.join(root, p), bad);
		return {
			kind,
			paths: [p],
			expect: {code: p.endsWith('cache-id') ? 'layer.field-invalid' : 'mount.field-invalid', path: p},
		};
	}
	const p = choose(jsonFile);
	if (p === undefined) return shape(root, pick);
	const abs = path.join(root, p);
	const text = fs.readFileSync(abs, 'utf8');
	const at = text.indexOf('{');
	if (at < 0) return shape(root, pick);
	const insert = (what: string) => fs.writeFileSync(abs, `${text.slice(0, at + 1)}${what}${text.slice(at + 1)}`);
	switch (kind) {
		case 'deep': {
			const n = 101 + Math.floor(pick() * 6000);
			insert(`"Deep":${'['.repeat(n)}${']'.repeat(n)},`);
			return {kind, paths: [p], expect: {code: 'json.too-deep', path: p}};
		}
		case 'big-number':
			insert(`"Big":${pick() < 0.5 ? '9007199254740993' : '1e400'},`);
			return {kind, paths: [p], expect: {code: 'json.big-number', path: p}};
		case 'proto-keys':
			insert('"__proto__":{"polluted":1},"constructor":"c","prototype":[],');
			return {kind, paths: [p]};
		default:
			fs.appendFileSync(abs, '\n{"x":1}zz');
			return {kind, paths: [p], expect: {code: firstValue.test(p) ? 'json.trailing-data' : 'json.invalid', path: p}};
	}
}

for (const name of ['sample', 'aufs', 'overlay2'] as const) {
	test(`fuzz shapes ${name}: ${rounds} copies with strays, deep JSON, prototype keys, big numbers, trailing data, bad ids: no crash, the finding present, untouched containers unchanged`, async () => {
		const original = real(name);
		if (original === null) return console.log('  (skipped: no real fixtures here)');
		const before = loadModel(openSource(original)).model;
		const copy = copyTree(original);
		try {
			for (let round = 0; round < rounds; round++) {
				const seed = seed0 + 5000 + round;
				const pick = rng(seed);
				const done: Shape[] = [];
				try {
					for (let k = 0; k < 1 + Math.floor(pick() * 2); k++) done.push(shape(copy, pick));
					const where = `seed ${seed} (${name}): ${done.map(d => `${d.kind} ${d.paths.length > 3 ? `${d.paths.length} paths in ${path.dirname(d.paths[0]!)}` : d.paths.map(p => JSON.stringify(p)).join(' & ')}`).join('; ')}`;
					for (const argv of [
						['model'],
						['tree'],
						['ls'],
						['check'],
						['inspect', before.containers[0]!.id],
						['inspect', before.containers[0]!.id, '--provenance'],
					]) {
						const s = silentIo();
						const code = await run([...argv, '--root', copy], s.io);
						assert.ok(code === 0 || code === 1 || code === 2, `${where}: ${argv.join(' ')} exited ${code}: ${s.err()}`);
						if (code === 1) assert.is(argv[0], 'check', `${where}: only check exits 1`);
						assert.not.match(s.err(), /internal error|Maximum call stack|\n\s+at /, where);
					}
					const after = loadModel(openSource(copy)).model;
					for (const d of done) {
						if (d.expect === undefined) continue;
						const {code, path: p} = d.expect;
						assert.ok(
							after.findings.some(f => f.code === code && f.path === p),
							`${where}: no ${code} on ${p}`,
						);
					}
					const paths = done.flatMap(d => d.paths);
					for (const c of before.containers) {
						if (touches(paths, ownFiles(before, c))) continue;
						const now = after.containers.find(x => x.id === c.id);
						assert.ok(now !== undefined, `${where}: untouched container ${c.name} is gone`);
						assert.equal(summary(now), summary(c), `${where}: untouched container ${c.name} changed`);
					}
					for (const c of after.containers)
						for (const e of c.chain)
							if (e.path !== null)
								assert.ok(
									e.path.split('/').every(x => x !== '' && x !== '.' && x !== '..'),
									`${where}: path ${JSON.stringify(e.path)}`,
								);
					assert.is(({} as Record<string, unknown>).polluted, undefined, `${where}: a prototype was touched`);
				} finally {
					restore(
						original,
						copy,
						done.flatMap(d => d.paths),
					);
				}
			}
		} finally {
			fs.rmSync(copy, {recursive: true, force: true});
		}
	});
}

test('fuzz through the real CLI: a few damaged roots, documented exit codes, no stack trace', () => {
	const real = realRoot('overlay2');
	if (real === null) return;
	const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-outside-'));
	try {
		for (let round = 0; round < 5; round++) {
			const pick = rng(seed0 + 1000 + round);
			const copy = copyTree(real);
			try {
				for (let k = 0; k < 3; k++) damage(copy, pick, outside);
				for (const argv of [['tree'], ['model']]) {
					const r = cli([...argv, '--root', copy]);
					assert.ok(r.code === 0 || r.code === 2, `${argv[0]} exited ${r.code}: ${r.stderr}`);
					assert.not.match(r.stderr, /\n\s+at |internal error/);
				}
			} finally {
				fs.rmSync(copy, {recursive: true, force: true});
			}
		}
	} finally {
		fs.rmSync(outside, {recursive: true, force: true});
	}
});

test.run();
