import {parseArgs} from 'node:util';

export const commands = ['tree', 'ls', 'images', 'inspect', 'model', 'check', 'timeline'] as const;
export type CommandName = (typeof commands)[number];

export type Severity = 'error' | 'warning' | 'info';

export type Args = {
	readonly command: CommandName | null;
	readonly refs: string[];
	readonly root: string | null;
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
};

export type ParsedArgs = {readonly ok: true; readonly args: Args} | {readonly ok: false; readonly error: string};

/** Which options each command takes, beyond the global ones. */
const commandOptions: Record<CommandName, readonly string[]> = {
	tree: ['json'],
	ls: ['json'],
	images: ['json'],
	inspect: ['json'],
	model: ['json'],
	check: ['json', 'deep', 'fail-on'],
	timeline: ['json', 'files', 'logs', 'format'],
};

/** Parses the command line; never throws. Usage errors come back as one line. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
	let parsed;
	try {
		parsed = parseArgs({
			args: [...argv],
			allowPositionals: true,
			strict: true,
			options: {
				root: {type: 'string', short: 'r'},
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
			},
		});
	} catch (error) {
		return {ok: false, error: (error as Error).message.split('\n')[0] ?? 'bad arguments'};
	}
	const {values, positionals} = parsed;
	const [first, ...rest] = positionals;
	let command: CommandName | null = null;
	if (first !== undefined) {
		if (!(commands as readonly string[]).includes(first)) return {ok: false, error: `unknown command "${first}" (commands: ${commands.join(', ')})`};
		command = first as CommandName;
	}
	if (!values.help) {
		if (command === 'inspect' && rest.length !== 1) return {ok: false, error: 'inspect takes exactly one REF'};
		if (command !== null && command !== 'inspect' && command !== 'tree' && rest.length > 0) return {ok: false, error: `${command} takes no arguments`};
	}
	const allowed = new Set(command === null ? ['json'] : commandOptions[command]);
	for (const name of ['json', 'deep', 'fail-on', 'files', 'logs', 'format']) {
		if (values[name as keyof typeof values] !== undefined && !allowed.has(name)) return {ok: false, error: `--${name} does not apply to ${command ?? 'the default view'}`};
	}
	const failOn = values['fail-on'] ?? 'error';
	if (failOn !== 'error' && failOn !== 'warning' && failOn !== 'info') return {ok: false, error: `--fail-on takes error, warning or info, not "${failOn}"`};
	const format = values.format ?? null;
	if (format !== null && format !== 'table' && format !== 'jsonl' && format !== 'csv') return {ok: false, error: `--format takes table, jsonl or csv, not "${format}"`};
	if (values.sample && values.root !== undefined) return {ok: false, error: '--sample and --root cannot be used together'};
	return {
		ok: true,
		args: {
			command,
			refs: rest,
			root: values.root ?? null,
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
		},
	};
}

export const helpText = `layerlens: read a Docker root offline and show how containers, layers and images link together

Usage: layerlens [COMMAND] [--root DIR|ARCHIVE] [--json] [options]

Commands:
  (none)          on a terminal: the interactive explorer (? shows its keys); otherwise the tree as text
  tree [REF...]   each container with its chain: RW layer, init layer, image layers, image
  ls              containers, like docker ps -a
  images          images, like docker images -a (intermediate and dangling marked)
  inspect REF     one container, image or layer as JSON
  model           the whole linked model as JSON
  check           integrity checks, orphans and leftovers, listed per object
                    --deep            also rebuild each layer's tar stream and verify its diff id
                    --fail-on LEVEL   exit 1 when a finding is at or above LEVEL (error|warning|info; default error)
  timeline        every dated event on the host, oldest first, times in UTC with their source
                    --files           add each container's RW-layer file times
                    --logs            add log lines (json-file and local log drivers)
                    --format FORMAT   table (default), jsonl or csv (Timesketch fields); --json = jsonl

REF: a full id, a unique id prefix (4+ hex characters), a container name, an image tag,
     a layer chain id or cache id.

Options:
  -r, --root PATH  the Docker root to read: a directory, or a .tar/.tar.gz/.tgz of one
                   (default /var/lib/docker); never written to
  --json           JSON instead of text
  --sample         read the sample state shipped with layerlens
  --or-sample      use the sample when /var/lib/docker is not there (what npm start does)
  --no-color       no colour (also: NO_COLOR=1, or output that is not a terminal)
  -h, --help       this help
  -V, --version    the version

Exit codes: 0 done (findings do not change it, except check --fail-on), 1 check found something
at or above --fail-on, 2 usage error or unreadable root, 3 internal error.
`;
