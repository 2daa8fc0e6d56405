import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {type Args, helpText, parseCommandLine} from './args.ts';
import {loadModel, openSource} from './load.ts';
import {allParts, type ReadParts} from './read/host.ts';
import {resolveRef} from './model/resolve.ts';
import type {Container, Image, Model} from './model/types.ts';
import {imagesJson, inspectJson, lsJson, modelJson, treeJson} from './view/json.ts';
import {makePaint} from './view/paint.ts';
import {clean} from './view/sanitize.ts';
import {renderContainers, renderImages} from './view/text-tables.ts';
import {renderTree} from './view/text-tree.ts';

export type Io = {
	readonly stdout: {write(s: string): unknown; readonly isTTY?: boolean};
	/** Only its isTTY is read: the interactive UI starts when both stdin and stdout are terminals. */
	readonly stdin?: {readonly isTTY?: boolean};
	readonly stderr: {write(s: string): unknown};
	readonly env: Readonly<Record<string, string | undefined>>;
};

export const defaultRoot = '/var/lib/docker';
const here = path.dirname(fileURLToPath(import.meta.url));
/** The package root, whether running from src/ (tsx) or build/src/. */
const packageRoot = fs.existsSync(path.join(here, '..', 'package.json')) ? path.join(here, '..') : path.join(here, '..', '..');
export const samplePath = path.join(packageRoot, 'sample', 'docker');

export function version(): string {
	try {
		return (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version;
	} catch {
		return 'unknown';
	}
}

class UsageError extends Error {}

function partsFor(args: Args): ReadParts {
	// ls needs only container configs and the tag list: skip layers, mounts and driver dirs.
	if (args.command === 'ls') return {images: false, layers: false, mounts: false, driverDirs: false, hostConfig: false};
	// hostconfig.json is shown only by inspect and the interactive UI's detail pane.
	if (args.command === 'model' || args.command === 'tree' || args.command === 'images') return {...allParts, hostConfig: false};
	return allParts;
}

function chooseRoot(args: Args, io: Io): string {
	if (args.sample) return samplePath;
	if (args.root !== null) return args.root;
	if (args.orSample && !isReadableDir(defaultRoot)) {
		io.stderr.write(`layerlens: no readable ${defaultRoot} here; showing the sample state shipped with layerlens (${samplePath})\n`);
		return samplePath;
	}
	return defaultRoot;
}

function isReadableDir(p: string): boolean {
	try {
		fs.accessSync(p, fs.constants.R_OK | fs.constants.X_OK);
		return fs.statSync(p).isDirectory();
	} catch {
		return false;
	}
}

function openRoot(root: string): ReturnType<typeof openSource> {
	let st: fs.Stats;
	try {
		st = fs.statSync(root);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new UsageError(code === 'ENOENT' ? `${root}: no such directory` : code === 'EACCES' ? `${root}: permission denied` : `${root}: cannot be read (${code})`);
	}
	if (!st.isDirectory()) throw new UsageError(`${root}: not a directory`);
	try {
		fs.accessSync(root, fs.constants.R_OK | fs.constants.X_OK);
	} catch {
		throw new UsageError(`${root}: permission denied`);
	}
	return openSource(root);
}

function selectForTree(model: Model, refs: readonly string[]): {containers: Container[]; images: Image[]} {
	if (refs.length === 0) {
		return {containers: model.containers, images: model.images.filter(i => i.containers.length === 0)};
	}
	const containers: Container[] = [];
	const images: Image[] = [];
	for (const ref of refs) {
		const r = resolveRef(model, ref);
		if (!r.ok) throw new UsageError(r.error);
		if (r.value.kind === 'container') containers.push(r.value.container);
		else if (r.value.kind === 'image') {
			const img = r.value.image;
			const users = model.containers.filter(c => img.containers.includes(c.id));
			if (users.length > 0) containers.push(...users);
			else images.push(img);
		} else {
			const l = r.value.layer;
			containers.push(...model.containers.filter(c => l.containers.includes(c.id)));
			images.push(...model.images.filter(i => l.images.includes(i.id) && i.containers.length === 0));
		}
	}
	return {containers: [...new Set(containers)], images: [...new Set(images)]};
}

function json(value: unknown): string {
	return JSON.stringify(value, null, 2) + '\n';
}

/**
 * Runs one command line and returns the exit code; writes only to io. The one exception is the
 * interactive UI (no command, stdin and stdout terminals, no --json): then it returns a promise
 * of the exit code, and the UI draws on the process's terminal.
 */
export function run(argv: readonly string[], io: Io): number | Promise<number> {
	const parsed = parseCommandLine(argv);
	if (!parsed.ok) {
		io.stderr.write(`layerlens: ${clean(parsed.error)} (see layerlens --help)\n`);
		return 2;
	}
	const args = parsed.args;
	if (args.help) {
		io.stdout.write(helpText);
		return 0;
	}
	if (args.version) {
		io.stdout.write(`layerlens ${version()}\n`);
		return 0;
	}
	try {
		const root = chooseRoot(args, io);
		if (args.command === null && !args.json && io.stdout.isTTY === true && io.stdin?.isTTY === true) {
			const source = openRoot(root);
			// Ink and React load only here.
			return import('./ui/launch.ts')
				.then(ui => ui.runInteractive({source, root, sample: root === samplePath, parts: partsFor(args)}))
				.then(result => {
					if (result === 'not-a-docker-root') throw new UsageError(`${root}: not a Docker root (no containers/, image/ or driver directories)`);
					return 0;
				})
				.catch((error: unknown) => failure(error, io));
		}
		const loaded = loadModel(openRoot(root), partsFor(args));
		if (!loaded.isDockerRoot) throw new UsageError(`${root}: not a Docker root (no containers/, image/ or driver directories)`);
		const model = loaded.model;
		const noColor = !args.color || (io.env['NO_COLOR'] ?? '') !== '' || io.stdout.isTTY !== true;
		const paint = makePaint(noColor ? 0 : 1);
		const command = args.command ?? 'tree';
		switch (command) {
			case 'model':
				io.stdout.write(json(modelJson(model)));
				break;
			case 'ls': {
				const newestFirst = [...model.containers].reverse();
				io.stdout.write(args.json ? json(lsJson(newestFirst)) : renderContainers(newestFirst));
				break;
			}
			case 'images': {
				const newestFirst = [...model.images].sort((a, b) => (a.created ?? '') < (b.created ?? '') ? 1 : (a.created ?? '') > (b.created ?? '') ? -1 : 0);
				io.stdout.write(args.json ? json(imagesJson(newestFirst)) : renderImages(newestFirst));
				break;
			}
			case 'tree': {
				const {containers, images} = selectForTree(model, args.refs);
				io.stdout.write(args.json ? json(treeJson(model, containers, images)) : renderTree(model, containers, images, {paint}));
				break;
			}
			case 'inspect': {
				const r = resolveRef(model, args.refs[0]!);
				if (!r.ok) throw new UsageError(r.error);
				io.stdout.write(json(inspectJson(model, r.value)));
				break;
			}
		}
		return 0;
	} catch (error) {
		return failure(error, io);
	}
}

function failure(error: unknown, io: Io): number {
	if (error instanceof UsageError) {
		io.stderr.write(`layerlens: ${clean(error.message)}\n`);
		return 2;
	}
	const message = error instanceof Error ? error.message : String(error);
	io.stderr.write(`layerlens: internal error: ${clean(message)} (please report it)\n`);
	return 3;
}

/** Entry point for bin/layerlens. */
export function main(): void {
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		// A closed pipe (layerlens ... | head) is not an error.
		if (error.code === 'EPIPE') process.exit(0);
		process.exit(3);
	});
	Promise.resolve(run(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env})).then(
		code => {
			process.exitCode = code;
		},
		() => {
			process.exitCode = 3;
		},
	);
}
