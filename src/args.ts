import {parseArgs} from 'node:util';

export const commands = ['model', 'tree', 'ls', 'images', 'inspect'] as const;
export type CommandName = (typeof commands)[number];

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
};

export type ParsedArgs = {readonly ok: true; readonly args: Args} | {readonly ok: false; readonly error: string};

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
	if (command === 'inspect' && rest.length !== 1 && !values.help) return {ok: false, error: 'inspect takes exactly one REF'};
	if (command !== null && command !== 'inspect' && command !== 'tree' && rest.length > 0) return {ok: false, error: `${command} takes no arguments`};
	if (values.json && command !== null && !['ls', 'images', 'tree', 'model', 'inspect'].includes(command)) return {ok: false, error: `--json does not apply to ${command}`};
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
		},
	};
}

export const helpText = `layerlens: read a Docker root offline and show how containers, layers and images link together

Usage: layerlens [COMMAND] [--root DIR] [--json] [options]

Commands:
  (none)          on a terminal: the tree (the interactive UI comes later); else the tree as text
  tree [REF...]   each container with its chain: RW layer, init layer, image layers, image
  ls              containers, like docker ps -a
  images          images, like docker images -a (intermediate and dangling marked)
  inspect REF     one container, image or layer as JSON
  model           the whole linked model as JSON

REF: a full id, a unique id prefix (4+ hex characters), a container name, an image tag,
     a layer chain id or cache id.

Options:
  -r, --root DIR  the Docker root to read (default /var/lib/docker); never written to
  --json          JSON instead of text (ls, images, tree; model and inspect are always JSON)
  --sample        read the sample state shipped with layerlens
  --or-sample     use the sample when the root does not exist (what npm start does)
  --no-color      no colour (also: NO_COLOR=1, or output that is not a terminal)
  -h, --help      this help
  -V, --version   the version

Exit codes: 0 the root was read (findings do not change it), 2 usage error or unreadable root,
3 internal error.
`;
