import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';

// Data flows one way: disk → read → model → checks → view → cli/components.
const src = path.join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
	return fs.readdirSync(dir, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function imports(file: string): string[] {
	return [...fs.readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map(m => m[1]!);
}

const rank: Record<string, number> = {read: 0, model: 1, checks: 2, timeline: 2, files: 2, teach: 2, view: 3};

test('modules import only from their own layer or the layers below', () => {
	for (const file of files(src)) {
		const rel = path.relative(src, file);
		const layer = rel.split(path.sep)[0]!;
		if (!(layer in rank)) continue;
		for (const spec of imports(file)) {
			if (!spec.startsWith('.')) continue;
			const target = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
			if (!(target in rank)) {
				assert.ok(target === 'finding.ts' || target === 'units.ts' || target === 'append.ts', `${rel} imports ${spec}`);
				continue;
			}
			assert.ok(rank[target]! <= rank[layer]!, `${rel} (${layer}) must not import ${spec} (${target})`);
		}
	}
});

test('nothing in src/ but the UI entry loads ink or react; readers never touch node:fs directly but through a Source', () => {
	for (const file of files(src)) {
		const rel = path.relative(src, file);
		const specs = imports(file);
		if (!rel.startsWith('ui')) assert.not.ok(specs.some(s => s === 'ink' || s === 'react' || s.includes('components/')), `${rel} loads the UI`);
		// live.ts reads the host's /proc (locks, mounts) and stats the root itself, not evidence under it.
		if (rel.startsWith('read') && !['read/node-fs-source.ts', 'read/tar-source.ts', 'read/tar-format.ts', 'read/live.ts'].includes(rel)) {
			assert.not.ok(specs.includes('node:fs'), `${rel} must read through a Source`);
		}
	}
});

test('no source file writes to disk: no write, rename, chmod or lock calls in src/', () => {
	const names = 'writeFile|writeSync|write|appendFile|rename|chmod|fchmod|chown|mkdir|mkdtemp|rm|rmdir|unlink|utimes|futimes|createWriteStream|truncate|ftruncate|symlink|link|cp|copyFile|open';
	const call = new RegExp(`\\.(${names})(Sync)?\\(`);
	const imported = new RegExp(`import\\s*\\{[^}]*\\b(${names})(Sync)?\\b[^}]*\\}\\s*from\\s*'node:fs`);
	for (const file of files(src)) {
		const text = fs.readFileSync(file, 'utf8');
		const rel = path.relative(src, file);
		assert.not.match(text, imported, `${rel} imports a writing fs function`);
		for (const m of text.matchAll(new RegExp(call, 'g'))) {
			// Opening is allowed only in the sources, and only read-only (checked by their own tests).
			if (m[1] === 'open' && rel.startsWith('read/')) continue;
			// The one writer: `export -o` writes a temporary file beside the output the user named (never inside
			// the root: files/output.ts refuses it), syncs it, renames it over the output, or removes it on failure.
			if (rel === path.join('files', 'output.ts') && ['open', 'write', 'writeSync', 'rename', 'unlink'].includes(m[1]!)) continue;
			if (m[1] === 'write' && /(stdout|stderr|io\.\w+)\.write\($/.test(text.slice(Math.max(0, m.index! - 20), m.index! + 7))) continue;
			assert.unreachable(`${rel} calls .${m[1]}${m[2] ?? ''}( at offset ${m.index}`);
		}
	}
});

test.run();
