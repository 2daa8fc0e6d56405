import {parseArgs} from 'node:util';
import {type Severity, isSeverity} from './finding.ts';

export const commands = [
	'tree',
	'ls',
	'images',
	'inspect',
	'model',
	'check',
	'timeline',
	'compare',
	'graph',
	'watch',
	'files',
	'diff',
	'cat',
	'export',
	'df',
	'which',
	'space',
] as const;
export type CommandName = (typeof commands)[number];

export type Args = {
	readonly command: CommandName | null;
	readonly refs: string[];
	readonly root: string | null;
	/** --containerd-root: a system containerd's root, read as if at containerd/daemon under the root. */
	readonly containerdRoot: string | null;
	readonly json: boolean;
	readonly color: boolean;
	readonly sample: boolean;
	readonly orSample: boolean;
	readonly help: boolean;
	readonly version: boolean;
	/** check */
	readonly deep: boolean;
	readonly failOn: Severity;
	/** timeline */
	readonly files: boolean;
	readonly logs: boolean;
	readonly format: 'table' | 'jsonl' | 'csv' | null;
	/** inspect: where each setting of a container came from */
	readonly provenance: boolean;
	/** tree, inspect: short explanations of each object and file */
	readonly explain: boolean;
	/** graph: --format dot|mermaid (default dot) */
	readonly graphFormat: 'dot' | 'mermaid';
	/** compare: list every file of each area */
	readonly all: boolean;
	/** watch: milliseconds between two looks at the root */
	readonly interval: number;
	/** export: the output file ('-' for stdout) */
	readonly output: string | null;
	/** export: also write a sha256 manifest beside the output */
	readonly hash: boolean;
	/** files: list an image layer from its tar-split.json.gz record instead of its directory */
	readonly tarSplit: boolean;
	/** df: the per-object figures too */
	readonly verbose: boolean;
};

export type ParsedArgs = {readonly ok: true; readonly args: Args} | {readonly ok: false; readonly error: string};

/** Which options each command takes, beyond the global ones. */
const commandOptions: Record<CommandName, readonly string[]> = {
	tree: ['json', 'explain'],
	ls: ['json'],
	images: ['json'],
	inspect: ['json', 'provenance', 'explain'],
	model: ['json'],
	check: ['json', 'deep', 'fail-on'],
	timeline: ['json', 'files', 'logs', 'format'],
	compare: ['json', 'all'],
	graph: ['format'],
	watch: ['json', 'interval'],
	files: ['json', 'tar-split'],
	df: ['json', 'verbose'],
	diff: ['json'],
	cat: [],
	export: ['output', 'hash'],
	which: ['json'],
	space: ['json'],
};

/** files, diff, cat, export: how many REF/PATH arguments, and the message when the count is wrong. */
const fileCommandArgs: Partial<Record<CommandName, readonly [number, number, string]>> = {
	files: [1, 2, 'files takes a REF and an optional PATH'],
	diff: [1, 1, 'diff takes exactly one CONTAINER'],
	cat: [2, 2, 'cat takes a REF and a PATH'],
	export: [1, 1, 'export takes exactly one REF (and -o FILE)'],
	which: [1, Number.POSITIVE_INFINITY, 'which takes one or more PATHs under the root'],
};

/** The options parseArgs knows (strict: any other is a usage error). */
const options = {
	root: {type: 'string', short: 'r'},
	'containerd-root': {type: 'string'},
	json: {type: 'boolean'},
	'no-color': {type: 'boolean'},
	sample: {type: 'boolean'},
	'or-sample': {type: 'boolean'},
	help: {type: 'boolean', short: 'h'},
	version: {type: 'boolean', short: 'V'},
	deep: {type: 'boolean'},
	'fail-on': {type: 'string'},
	files: {type: 'boolean'},
	logs: {type: 'boolean'},
	format: {type: 'string'},
	provenance: {type: 'boolean'},
	explain: {type: 'boolean'},
	all: {type: 'boolean'},
	interval: {type: 'string'},
	output: {type: 'string', short: 'o'},
	hash: {type: 'boolean'},
	'tar-split': {type: 'boolean'},
	verbose: {type: 'boolean', short: 'v'},
} as const;

type Values = ReturnType<typeof parseArgs<{options: typeof options; allowPositionals: true; strict: true}>>['values'];

/** The command's REF/ROOT arguments counted: the usage error when there are too few or too many, else null. */
function argumentCountError(command: CommandName | null, rest: readonly string[]): string | null {
	if (command === 'inspect' && rest.length !== 1) return 'inspect takes exactly one REF';
	const counts = command === null ? undefined : fileCommandArgs[command];
	if (counts !== undefined && (rest.length < counts[0] || rest.length > counts[1])) return counts[2];
	if (command === 'compare' && rest.length !== 2)
		return 'compare takes two roots: BEFORE and AFTER (directories or archives)';
	if (
		command !== null &&
		command !== 'inspect' &&
		command !== 'tree' &&
		command !== 'compare' &&
		command !== 'graph' &&
		command !== 'space' &&
		counts === undefined &&
		rest.length > 0
	)
		return `${command} takes no arguments`;
	return null;
}

type OptionValues = {
	readonly failOn: Severity;
	readonly graphFormat: 'dot' | 'mermaid';
	readonly format: Args['format'];
	readonly interval: number;
};

/** The options checked against the command and each other, and their values read: the usage error, or the values. */
function optionValues(values: Values, command: CommandName | null): OptionValues | string {
	const allowed = new Set(command === null ? ['json'] : commandOptions[command]);
	for (const name of [
		'json',
		'deep',
		'fail-on',
		'files',
		'logs',
		'format',
		'provenance',
		'explain',
		'all',
		'interval',
		'output',
		'hash',
		'tar-split',
		'verbose',
	]) {
		if (values[name as keyof typeof values] !== undefined && !allowed.has(name))
			return `--${name} does not apply to ${command ?? 'the default view'}`;
	}
	const failOn = values['fail-on'] ?? 'error';
	if (!isSeverity(failOn)) return `--fail-on takes error, warning or info, not "${failOn}"`;
	const graphFormat = command === 'graph' ? (values.format ?? 'dot') : 'dot';
	if (graphFormat !== 'dot' && graphFormat !== 'mermaid') return `--format takes dot or mermaid, not "${graphFormat}"`;
	const format = command === 'graph' ? null : (values.format ?? null);
	if (format !== null && format !== 'table' && format !== 'jsonl' && format !== 'csv')
		return `--format takes table, jsonl or csv, not "${format}"`;
	const interval = values.interval === undefined ? 500 : Number(values.interval);
	if (!Number.isInteger(interval) || interval < 50 || interval > 3_600_000)
		return `--interval takes milliseconds, 50 or more, not "${values.interval}"`;
	if ((command === 'compare' || command === 'watch') && values.sample) return `--sample does not apply to ${command}`;
	if (command === 'compare' && values.root !== undefined) return 'compare takes its two roots as arguments, not --root';
	if (command === 'compare' && values['containerd-root'] !== undefined)
		return '--containerd-root does not apply to compare (each snapshot would need its own)';
	if (values['containerd-root'] === '') return '--containerd-root takes a directory or an archive';
	if (values.sample && values.root !== undefined) return '--sample and --root cannot be used together';
	return {failOn, graphFormat, format, interval};
}

/** Parses the command line; never throws. Usage errors come back as one line. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
	let parsed: ReturnType<typeof parseArgs<{options: typeof options; allowPositionals: true; strict: true}>>;
	try {
		parsed = parseArgs({args: [...argv], allowPositionals: true, strict: true, options});
	} catch (error) {
		return {ok: false, error: (error as Error).message.split('\n')[0] ?? 'bad arguments'};
	}
	const {values, positionals} = parsed;
	const [first, ...rest] = positionals;
	let command: CommandName | null = null;
	if (first !== undefined) {
		if (!(commands as readonly string[]).includes(first))
			return {ok: false, error: `unknown command "${first}" (commands: ${commands.join(', ')})`};
		command = first as CommandName;
	}
	const countError = values.help ? null : argumentCountError(command, rest);
	if (countError !== null) return {ok: false, error: countError};
	const checked = optionValues(values, command);
	if (typeof checked === 'string') return {ok: false, error: checked};
	const {failOn, graphFormat, format, interval} = checked;
	return {
		ok: true,
		args: {
			command,
			refs: rest,
			root: values.root ?? null,
			containerdRoot: values['containerd-root'] ?? null,
			json: values.json ?? false,
			color: !(values['no-color'] ?? false),
			sample: values.sample ?? false,
			orSample: values['or-sample'] ?? false,
			help: values.help ?? false,
			version: values.version ?? false,
			deep: values.deep ?? false,
			failOn,
			files: values.files ?? false,
			logs: values.logs ?? false,
			format,
			provenance: values.provenance ?? false,
			explain: values.explain ?? false,
			graphFormat,
			all: values.all ?? false,
			interval,
			output: values.output ?? null,
			hash: values.hash ?? false,
			tarSplit: values['tar-split'] ?? false,
			verbose: values.verbose ?? false,
		},
	};
}

export const helpText = `layerlens: read a Docker root offline and show how containers, layers and images link together

Usage: layerlens [COMMAND] [--root DIR|ARCHIVE] [--json] [options]

Commands:
  (none)          on a terminal: the interactive explorer (? shows its keys); otherwise the tree as text
  tree [REF...]   each container with its chain: RW layer, init layer, image layers, image
                    --explain         then what each object and file is, for the first container shown
  ls              containers, like docker ps -a
  images          images, like docker images -a (intermediate and dangling marked)
  inspect REF     one container, image, layer, volume or network as JSON
                    --provenance      a container's settings marked: from the image, the user or the daemon
                    --explain         what the object and each of its files is (text; with --json, added as "explain")
  model           the whole linked model as JSON
  check           integrity checks, orphans and leftovers, listed per object
                    --deep            also rebuild each layer's tar stream and verify its diff id
                    --fail-on LEVEL   exit 1 when a finding is at or above LEVEL (error|warning|info; default error)
  timeline        every dated event on the host, oldest first, times in UTC with their source
                    --files           add each container's RW-layer file times
                    --logs            add log lines (json-file and local log drivers)
                    --format FORMAT   table (default), jsonl or csv (Timesketch fields); --json = jsonl
  files REF [PATH]  the files of a layer (with what it does to the layers below: added, modified,
                  deleted, opaque) or the merged view of an image or container, under PATH
                    --tar-split       list an image layer from its tar-split.json.gz record (the
                                      tar headers docker kept), not from its directory
  diff CONTAINER  what the container changed, as docker diff prints it (A, C, D)
  cat REF PATH    a file's content as the container or image sees it
  export REF -o OUT.tar   the merged filesystem as a tar (-o - for stdout), no mount, no root
                    --hash            also write OUT.tar.sha256, a sha256 manifest of the regular files
  compare BEFORE AFTER   what changed between two snapshots of a root (directories or archives):
                  objects added, removed or changed, then files by area, each explained
                    --all             list every file (default: 40 per area)
  graph [REF...]  the containers -> layers -> images graph
                    --format FORMAT   dot (default; for Graphviz) or mermaid
  df              who owns every byte under the root: by category (image layers, containers,
                  logs, volumes, build cache, orphans, the daemon's files, other), with what is
                  reclaimable and the command that frees it; totals apparent and allocated
                    -v, --verbose     also per image, container, volume and build cache record
                                      (the figures of docker system df -v)
  watch           follow a live root (a directory): print what docker create, start, rm, pull, build...
                  write, in the order written; Ctrl-C stops
                    --interval MS     how often to look (default 500)
  which PATH...   what owns each path under the root (absolute, or relative to the root): a layer,
                  a container (RW, init, config, log), an image, a volume, build cache, the daemon,
                  or an orphan with the finding that explains it; exit 1 when a PATH is not there
  space [IMAGE...]  per image: bytes wasted on files a higher layer overwrites or deletes, the
                  efficiency score (as dive computes them), and the biggest files of each layer

REF: a full id, a unique id prefix (4+ hex characters), a container name, an image tag,
     a layer chain id or cache id; failing those, a container's RW or init layer cache id,
     its <mount id>-init name or an l/ short name names the container (files: that layer).

Options:
  -r, --root PATH  the Docker root to read: a directory, or a .tar/.tar.gz/.tgz of one
                   (default /var/lib/docker); never written to
  --containerd-root PATH  a system containerd's root (/var/lib/containerd, or a copy or a
                   .tar/.tar.gz/.tgz of it): the images and layers of a Docker 29 host whose
                   dockerd uses the system containerd. Read as if it were the root's
                   containerd/daemon/ (paths are shown so); never written to. Refused by
                   compare, and when the root has its own containerd/daemon/
  --json           JSON instead of text
  --sample         read the sample state shipped with layerlens
  --or-sample      use the sample when /var/lib/docker is not there (what npm start does)
  --no-color       no colour (also: NO_COLOR=1, or output that is not a terminal)
  -h, --help       this help
  -V, --version    the version

Exit codes: 0 done (findings do not change it, except check --fail-on), 1 check found something
at or above --fail-on, 2 usage error or unreadable root, 3 internal error, 4 the output could
not be written (a full disk, an I/O error).
`;
