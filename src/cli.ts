import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {type Args, type CommandName, helpText, parseCommandLine} from './args.ts';
import {type CommandContext, type Io, UsageError, notDockerRoot, paintFor, colorOn} from './commands/context.ts';
import {OutputError, checkStdout, describeError, evidenceOf, rootEvidence} from './files/output.ts';
import {type Loaded, loadModel, loadSteadyModel, openRoots} from './load.ts';
import {type Liveness, type Signature, liveness, signature} from './sources/live.ts';
import type {Source} from './sources/source.ts';
import {allParts, type ReadParts} from './read/host.ts';
import type {Finding} from './finding.ts';
import {message, seg} from './view/line.ts';

export type {Io} from './commands/context.ts';

const defaultRoot = '/var/lib/docker';
const here = path.dirname(fileURLToPath(import.meta.url));
/** The package root, whether running from src/ (tsx) or build/src/. */
const packageRoot = fs.existsSync(path.join(here, '..', 'package.json'))
	? path.join(here, '..')
	: path.join(here, '..', '..');
/** A real Docker root made by dockerd (scripts/make-sample.ts), read in place from its archive. */
export const samplePath = path.join(packageRoot, 'sample', 'docker.tar.gz');

export function version(): string {
	try {
		return (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version;
	} catch {
		return 'unknown';
	}
}

type Run = (ctx: CommandContext) => Promise<number>;

const views = () => import('./commands/views.ts');
const files = () => import('./commands/files.ts');

/**
 * Each command, its module loaded only when it runs (a command loads only what it runs; `--version`
 * and usage errors load none). compare and watch open their roots themselves (two snapshots; a live
 * root read again and again); check is run by run() itself (--fail-on and the live-root look again).
 */
const commandTable: Record<Exclude<CommandName, 'check' | 'compare' | 'watch'>, Run> = {
	model: async ctx => (await views()).modelCommand(ctx),
	ls: async ctx => (await views()).lsCommand(ctx),
	images: async ctx => (await views()).imagesCommand(ctx),
	tree: async ctx =>
		ctx.args.explain
			? (await import('./commands/tree-explain.ts')).treeExplainCommand(ctx)
			: (await views()).treeCommand(ctx),
	inspect: async ctx =>
		ctx.args.provenance || ctx.args.explain
			? (await import('./commands/inspect-teach.ts')).inspectTeachCommand(ctx)
			: (await views()).inspectCommand(ctx),
	graph: async ctx => (await import('./commands/graph.ts')).graphCommand(ctx),
	timeline: async ctx => (await import('./commands/timeline.ts')).timelineCommand(ctx),
	files: async ctx => (await files()).filesCommand(ctx),
	diff: async ctx => (await files()).diffCommand(ctx),
	cat: async ctx => (await files()).catCommand(ctx),
	export: async ctx => (await files()).exportCommand(ctx),
	df: async ctx => (await import('./commands/df.ts')).dfCommand(ctx),
	which: async ctx => (await import('./commands/which.ts')).whichCommand(ctx),
	space: async ctx => (await import('./commands/space.ts')).spaceCommand(ctx),
};

/** Reads only what a command shows: ls needs container configs and tags; hostconfig.json only inspect and the UI. */
function partsFor(args: Args): ReadParts {
	if (args.command === 'ls') return {images: false, layers: false, mounts: false, driverDirs: false, hostConfig: false};
	if (
		args.command === 'model' ||
		args.command === 'tree' ||
		args.command === 'images' ||
		args.command === 'check' ||
		args.command === 'graph' ||
		args.command === 'df'
	)
		return {...allParts, hostConfig: false};
	return allParts;
}

/** Commands whose text output does not carry the findings: they end with findingsLine on stderr. */
const tableCommands = new Set<CommandName | null>([
	null,
	'ls',
	'images',
	'tree',
	'graph',
	'timeline',
	'files',
	'diff',
	'df',
]);
/** Their --json outputs that carry no findings either (docker-like arrays, JSON Lines): the line is written for them too. */
const jsonWithoutFindings = new Set<CommandName | null>(['ls', 'images', 'timeline']);

function tableOutput(args: Args): boolean {
	return tableCommands.has(args.command) && (!args.json || jsonWithoutFindings.has(args.command));
}

/** The findings of what was read: ls does not read images, layers and mounts, so linking's findings about them would be wrong: only the readers' count. */
function shownFindings(loaded: Loaded, parts: ReadParts): readonly Finding[] {
	if (parts.images && parts.layers && parts.mounts) return loaded.model.findings;
	const {raw} = loaded;
	return [
		...raw.findings,
		...raw.containers.flatMap(c => c.findings),
		...[...raw.stores.values()].flatMap(s => s.findings),
	];
}

/** One line for stderr after a table: `layerlens: 3 findings (1 error); run \`layerlens check\``; '' when there are none. */
function findingsLine(findings: readonly Finding[]): string {
	if (findings.length === 0) return '';
	const errors = findings.filter(f => f.severity === 'error').length;
	const warnings = findings.filter(f => f.severity === 'warning').length;
	const counts = [
		errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : '',
		warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '',
	].filter(x => x !== '');
	const what = counts.length > 0 ? counts.join(', ') : 'information only';
	return `layerlens: ${findings.length} finding${findings.length === 1 ? '' : 's'} (${what}); run \`layerlens check\`\n`;
}

function chooseRoot(args: Args, io: Io): string {
	if (args.sample) return samplePath;
	if (args.root !== null) return args.root;
	if (args.orSample && !isReadableDir(defaultRoot)) {
		io.stderr.write(
			message(`no readable ${defaultRoot} here; showing the sample state shipped with layerlens (${samplePath})`),
		);
		return samplePath;
	}
	if (args.orSample) io.stderr.write(message(`reading ${defaultRoot}`));
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

/** Runs one command line and returns the exit code; writes only to io (the interactive UI draws on the process's terminal). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
	const parsed = parseCommandLine(argv);
	if (!parsed.ok) {
		io.stderr.write(message(`${parsed.error} (see layerlens --help)`));
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
		const command = args.command;
		if (command === 'compare' || command === 'watch') return await runOwnRoots(args, io);
		return await runOnRoot(args, command ?? 'tree', io);
	} catch (error) {
		return failure(error, io);
	}
}

/** compare and watch: they open their roots themselves; standard output must not be one of their files either. */
async function runOwnRoots(args: Args, io: Io): Promise<number> {
	const paths =
		args.command === 'compare'
			? args.refs.slice(0, 2)
			: [args.root ?? defaultRoot, ...(args.containerdRoot !== null ? [args.containerdRoot] : [])];
	if (io.stdout === process.stdout) {
		const refused = checkStdout(paths.map(rootEvidence));
		if (refused !== undefined) throw new UsageError(refused);
	}
	if (args.command === 'compare') return await (await import('./commands/compare.ts')).compareCommand(args, io);
	return await (await import('./commands/watch.ts')).watchCommand(args, io, args.root ?? defaultRoot);
}

/** A model loaded for a command, and what check needs to look at a live root again. */
type Looked = {
	readonly loaded: Loaded;
	/** check and model: whether the root is live, and its signature before reading; else null. */
	readonly live: Liveness | null;
	readonly before: Signature | null;
};

/** Every other command: one root opened, then the interactive UI, check or the command's view. */
async function runOnRoot(args: Args, command: Exclude<CommandName, 'compare' | 'watch'>, io: Io): Promise<number> {
	const root = chooseRoot(args, io);
	const opened = await openRoots(root, args.containerdRoot);
	if (!opened.ok) throw new UsageError(opened.error);
	if (io.stdout === process.stdout) {
		// `layerlens model >> ROOT/containers/<id>/config.v2.json` would append to the evidence.
		const refused = checkStdout(evidenceOf(opened.source));
		if (refused !== undefined) throw new UsageError(refused);
	}
	if (args.command === null && !args.json && io.stdout.isTTY === true && io.stdin?.isTTY === true) {
		// Ink and React load only here.
		const ui = await import('../components/launch.ts');
		const result = await ui.runInteractive({
			source: opened.source,
			root,
			sample: root === samplePath,
			color: colorOn(args, io),
			parts: partsFor(args),
		});
		if (result === 'not-a-docker-root') throw notDockerRoot(root);
		return 0;
	}
	const looked = await look(args, opened.source);
	const {loaded} = looked;
	if (!loaded.isDockerRoot) throw notDockerRoot(root);
	const ctx: CommandContext = {args, loaded, io, paint: paintFor(args, io)};
	if (command === 'check') return await runCheck(args, io, opened.source, looked);
	const code = await commandTable[command](ctx);
	if (tableOutput(args)) {
		const line = findingsLine(shownFindings(loaded, partsFor(args)));
		if (line !== '') io.stderr.write(line);
	}
	return code;
}

/** Loads the model; check and model look again before calling a live root broken (checks/look-again.ts). */
async function look(args: Args, source: Source): Promise<Looked> {
	const live = args.command === 'check' || args.command === 'model' ? liveness(source) : null;
	const before = live === null ? null : signature(source, live.live);
	const loaded =
		live !== null && before !== null && args.command === 'model'
			? await loadSteadyModel(source, partsFor(args), live, before)
			: loadModel(source, partsFor(args));
	return {loaded, live, before};
}

async function runCheck(args: Args, io: Io, opened: Source, looked: Looked): Promise<number> {
	const {loaded, live, before} = looked;
	const {model, raw, source} = loaded;
	const color = colorOn(args, io);
	// Progress for --deep goes to stderr, and only on a terminal.
	const tty = args.deep && io.stderr.isTTY === true;
	const lookAgain =
		live !== null && before !== null
			? {lookAgain: {live, before, reload: () => loadModel(opened, partsFor(args))}}
			: {};
	const {checkCommand} = await import('./commands/check.ts');
	const r = await checkCommand({
		source,
		raw,
		model,
		deep: args.deep,
		json: args.json,
		failOn: args.failOn,
		color,
		...lookAgain,
		...(tty ? {progress: (m: string) => io.stderr.write(`\r\x1b[K${seg(m).text}`)} : {}),
	});
	if (tty) io.stderr.write('\r\x1b[K');
	io.stdout.write(r.output);
	return r.exitCode;
}

function failure(error: unknown, io: Io): number {
	if (error instanceof UsageError) {
		io.stderr.write(message(error.message));
		return 2;
	}
	if (error instanceof OutputError) {
		io.stderr.write(message(error.message));
		return 4;
	}
	const text = error instanceof Error ? error.message : String(error);
	io.stderr.write(message(`internal error: ${text} (please report it)`));
	return 3;
}

/** Entry point for bin/layerlens. */
export function main(): void {
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		// A closed pipe (layerlens ... | head) is not an error.
		if (error.code === 'EPIPE') process.exit(0);
		// Anything else (a full disk, /dev/full, an I/O error): one line, exit 4, as for an output file.
		process.stderr.write(message(`standard output cannot be written: ${describeError(error)}`));
		process.exit(4);
	});
	// stderr itself cannot be written (2>/dev/full): nothing can be said; exit 4 rather than a crash.
	process.stderr.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 4));
	run(process.argv.slice(2), {
		stdout: process.stdout,
		stderr: process.stderr,
		stdin: process.stdin,
		env: process.env,
	}).then(
		code => {
			process.exitCode = code;
		},
		() => {
			process.exitCode = 3;
		},
	);
}
