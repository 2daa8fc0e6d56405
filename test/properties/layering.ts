import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {test} from 'uvu';
import * as assert from 'uvu/assert';

// Data flows one way: disk → read → model → checks/files/teach/timeline → view → ui/commands → components → cli.
// Every folder of src/ (and each file at its top) and components/ has a rank: a module imports only from its own
// layer or from a layer ranked below it, never from a sibling of the same rank, statically or dynamically.
const repo = path.join(import.meta.dirname, '..', '..');
const src = path.join(repo, 'src');

function files(dir: string): string[] {
	return fs
		.readdirSync(dir, {withFileTypes: true})
		.flatMap(e =>
			e.isDirectory() ? files(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
		);
}

/** Every module of the shipped tree (what tsconfig.build.json compiles). */
const house = [...files(src), ...files(path.join(repo, 'components'))];

function imports(file: string): string[] {
	return [...fs.readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map(m => m[1]!);
}

type Reference = {readonly spec: string; readonly how: 'static' | 'dynamic' | 'path'};

/**
 * What a module loads: `import … from` / `export … from` / `import '…'` (static), `import('…')` (dynamic),
 * and any other string naming a module beside it (a worker script: `new URL('./load-worker.ts', import.meta.url)`).
 */
function references(text: string): Reference[] {
	const found: Reference[] = [];
	for (const m of text.matchAll(
		/\bfrom\s*'([^']+)'|\bimport\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|'(\.{1,2}\/[^']+\.(?:tsx?|js))'/g,
	)) {
		if (m[1] !== undefined || m[2] !== undefined) found.push({spec: (m[1] ?? m[2])!, how: 'static'});
		else if (m[3] !== undefined) found.push({spec: m[3], how: 'dynamic'});
		else found.push({spec: m[4]!, how: 'path'});
	}
	return found;
}

/** The layer of a module: its folder under src/ (or its own name at the top of src/), or components. */
function layerOf(file: string): string {
	const [top, second] = path.relative(repo, file).split(path.sep);
	return top === 'src' ? second! : top!;
}

const rank: Record<string, number> = {
	'finding.ts': 0,
	'units.ts': 0,
	'append.ts': 0,
	// Byte formats (tar, bbolt, gzip, JSON, names as bytes): bytes in, values out, no files.
	formats: 1,
	// Sources: the one way to the evidence (a directory through the door, an archive, both mounted).
	sources: 2,
	// Docker-area readers (one folder per store where it grows: drivers/, containerd/).
	read: 3,
	model: 4,
	checks: 5,
	timeline: 5,
	files: 5,
	teach: 5,
	// Snapshot diffing (compare, watch): what changed between two states, worded with teach's texts.
	compare: 6,
	// Disk use (df, which, space): who owns every byte and path under the root, what images waste (may use the checks and files/, not compare/).
	disk: 6,
	view: 7,
	'load.ts': 7,
	'args.ts': 7,
	ui: 8,
	commands: 8,
	// The UI's home: all that loads Ink and React (the launcher and the components).
	components: 9,
	'cli.ts': 10,
};

const uiLibrary = /^(ink|react)(-[^/]*)?(\/|$)/;

/** What is wrong with one module's references (empty: nothing). */
function violations(file: string, text: string): string[] {
	const rel = path.relative(repo, file);
	const layer = layerOf(file);
	const wrong: string[] = [];
	if (!(layer in rank)) return [`${rel}: its layer ${layer} has no rank in test/properties/layering.ts`];
	// A dynamic import with a computed specifier could load anything. The one allowed: feed.ts's worker
	// bootstrap, code in a string evaluated in the worker, which imports the load worker beside it.
	for (const m of text.matchAll(/\bimport\(\s*(?!['\s])/g)) {
		if (!(rel === path.join('src', 'ui', 'feed.ts') && text.startsWith('import(${', m.index)))
			wrong.push(`${rel}: import() of a computed specifier at offset ${m.index}`);
	}
	for (const {spec, how} of references(text)) {
		if (!spec.startsWith('.')) {
			if (uiLibrary.test(spec) && layer !== 'components')
				wrong.push(`${rel} (${layer}) loads ${spec}: only components/ loads Ink and React`);
			continue;
		}
		const target = path.resolve(path.dirname(file), spec);
		const to =
			path.relative(repo, target).split(path.sep)[0] === 'src' || path.relative(repo, target).startsWith('components')
				? layerOf(target)
				: null;
		if (to === null || !(to in rank)) {
			wrong.push(`${rel} refers to ${spec}, outside the ranked tree (src/, components/)`);
			continue;
		}
		if (to === layer) continue;
		if (rank[to]! > rank[layer]!)
			wrong.push(`${rel} (${layer}, rank ${rank[layer]}) must not load ${spec} (${to}, rank ${rank[to]})`);
		else if (rank[to] === rank[layer])
			wrong.push(`${rel} (${layer}) must not load ${spec} from its sibling layer ${to}`);
		// Non-UI commands load neither Ink nor React: the UI is entered only through a dynamic import.
		else if (to === 'components' && how !== 'dynamic')
			wrong.push(`${rel} loads ${spec} statically: the UI is loaded only by import()`);
	}
	return wrong;
}

test('every folder of src/ and components/ has a rank', () => {
	const layers = new Set(house.map(layerOf));
	for (const layer of layers) assert.ok(layer in rank, `${layer} has no rank`);
	for (const layer of Object.keys(rank)) assert.ok(layers.has(layer), `${layer} is ranked but holds no module`);
});

test('modules load only from their own layer or the layers below, static imports and import() alike', () => {
	const wrong = house.flatMap(file => violations(file, fs.readFileSync(file, 'utf8')));
	assert.equal(wrong, []);
});

test('the check sees what it must: planted violations are found', () => {
	const at = (rel: string) => path.join(repo, rel);
	const cases: Array<[string, string, RegExp]> = [
		['src/read/x.ts', "import {link} from '../model/link.ts';", /must not load/],
		['src/model/x.ts', "const v = await import('../view/format.ts');", /must not load/],
		['src/teach/x.ts', "export {walkMerged} from '../files/walk.ts';", /sibling layer files/],
		['src/commands/x.ts', "import {reduce} from '../ui/nav.ts';", /sibling layer ui/],
		['src/view/x.ts', "import {Box} from 'ink';", /only components\/ loads/],
		['src/ui/x.ts', "const {createElement} = await import('react');", /only components\/ loads/],
		['src/ui/x.ts', "import {jsx} from 'react/jsx-runtime';", /only components\/ loads/],
		['src/cli.ts', "import {runInteractive} from '../components/launch.ts';", /statically/],
		['src/ui/x.ts', "const a = await import('../../components/App.tsx');", /must not load/],
		['src/ui/x.ts', "new Worker(new URL('../commands/x.js', import.meta.url));", /sibling layer commands/],
		['src/ui/x.ts', 'const m = await import(name);', /computed specifier/],
		['components/x.ts', "import {measureUi} from '../bench/measure-ui.ts';", /outside the ranked tree/],
		['src/newfolder/x.ts', "import {finding} from '../finding.ts';", /has no rank/],
	];
	for (const [rel, text, expected] of cases)
		assert.match(violations(at(rel), text).join('\n'), expected, `${rel}: ${text}`);
	assert.equal(
		violations(at('src/cli.ts'), "const ui = await import('../components/launch.ts');"),
		[],
		'the CLI enters the UI by import()',
	);
	assert.equal(
		violations(at('components/x.tsx'), "import {Box} from 'ink';\nimport {reduce} from '../src/ui/nav.ts';"),
		[],
	);
});

// At run time: a resolve hook (registered after tsx, so it sees every specifier first) refuses Ink, React and
// components/; a command that loaded any of them would fail.
const refuseUi = `export async function resolve(specifier, context, next) {
	const r = await next(specifier, context);
	if (/^(ink|react)(-[^/]*)?([/]|$)/.test(specifier) || r.url.includes('/components/')) throw new Error('layering: the UI was loaded: ' + specifier);
	return r;
}`;
const hook = `data:text/javascript,${encodeURIComponent(`import {register} from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(refuseUi)}`)});`)}`;

function runWithoutUi(script: string, args: string[]) {
	return spawnSync(process.execPath, ['--import', 'tsx', '--import', hook, script, ...args], {
		cwd: repo,
		encoding: 'utf8',
		env: {...process.env, NO_COLOR: '1'},
		maxBuffer: 64 * 1024 * 1024,
	});
}

test('non-UI commands load neither Ink nor React (nor components/) at run time', () => {
	const main = path.join(repo, 'test', 'helpers', 'cli-main.ts');
	const sample = path.join(repo, 'sample', 'docker.tar.gz');
	// No command and no terminal: the tree, as text (the explorer needs a TTY on both ends).
	for (const args of [
		[],
		['ls'],
		['images', '--json'],
		['tree', '--explain'],
		['model'],
		['check'],
		['timeline'],
		['graph'],
		['compare', sample, sample],
	]) {
		const r = runWithoutUi(main, args[0] === 'compare' ? args : ['-r', sample, ...args]);
		assert.not.match(r.stderr, /layering: the UI was loaded|internal error/, `${args.join(' ')}: ${r.stderr}`);
		assert.ok(r.status === 0 || r.status === 1, `${args.join(' ') || '(no command)'}: exit ${r.status}: ${r.stderr}`);
		assert.ok(r.stdout.length > 0, `${args.join(' ')}: some output`);
	}
	// The hook does refuse the UI: loading the launcher's components fails under it.
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-'));
	try {
		const probe = path.join(dir, 'probe.mts');
		fs.writeFileSync(
			probe,
			`await import(${JSON.stringify(pathToFileURL(path.join(repo, 'components', 'App.tsx')).href)});\n`,
		);
		const r = runWithoutUi(probe, []);
		assert.match(r.stderr, /layering: the UI was loaded/);
		assert.is.not(r.status, 0);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('readers never touch node:fs directly but through a Source', () => {
	for (const file of files(src)) {
		const rel = path.relative(src, file);
		const specs = imports(file);
		// live.ts reads the host's /proc (locks, mounts) and stats the root itself, not evidence under it;
		// tar-source.ts and tar-content.ts read the archive file itself (the Source over it).
		if (
			/^(read|sources|formats)\//.test(rel) &&
			![
				'sources/node-fs-source.ts',
				'sources/tar-source.ts',
				'sources/tar-content.ts',
				'formats/tar-format.ts',
				'sources/live.ts',
			].includes(rel)
		) {
			assert.not.ok(specs.includes('node:fs'), `${rel} must read through a Source`);
		}
	}
});

test('no source file writes to disk: no write, rename, chmod or lock calls in src/ and components/', () => {
	const names =
		'writeFile|writeSync|write|appendFile|rename|chmod|fchmod|chown|mkdir|mkdtemp|rm|rmdir|unlink|utimes|futimes|createWriteStream|truncate|ftruncate|symlink|link|cp|copyFile|open';
	const call = new RegExp(`\\.(${names})(Sync)?\\(`);
	const imported = new RegExp(`import\\s*\\{[^}]*\\b(${names})(Sync)?\\b[^}]*\\}\\s*from\\s*'node:fs`);
	for (const file of house) {
		const text = fs.readFileSync(file, 'utf8');
		const rel = path.relative(src, file);
		assert.not.match(text, imported, `${rel} imports a writing fs function`);
		for (const m of text.matchAll(new RegExp(call, 'g'))) {
			// Opening is allowed only in the sources, and only read-only (checked by their own tests).
			if (m[1] === 'open' && rel.startsWith('sources/')) continue;
			// The one writer: `export -o` writes a temporary file beside the output the user named (never inside
			// the root: files/output.ts refuses it), syncs it, renames it over the output, or removes it on failure.
			if (rel === path.join('files', 'output.ts') && ['open', 'write', 'writeSync', 'rename', 'unlink'].includes(m[1]!))
				continue;
			// The archive reader's inflater: a zlib handle's writeSync feeds it bytes in memory (formats/gunzip-sync.ts).
			if (
				rel === path.join('formats', 'gunzip-sync.ts') &&
				m[1] === 'writeSync' &&
				text.slice(m.index! - 6, m.index!) === 'handle'
			)
				continue;
			if (
				m[1] === 'write' &&
				/(stdout|stderr|io\.\w+)\.write\($/.test(text.slice(Math.max(0, m.index! - 20), m.index! + 7))
			)
				continue;
			assert.unreachable(`${rel} calls .${m[1]}${m[2] ?? ''}( at offset ${m.index}`);
		}
	}
});

test.run();
