/**
 * Short explanations, in our own words, of each object and file layerlens shows: what the RW and
 * init layers are, what each file of a container's directory, of its layerdb mount record and
 * of a layer's record holds, and what the storage driver keeps where. Facts differ per driver
 * (aufs, overlay2, fuse-overlayfs, vfs, and briefly the others), so every text takes the driver.
 *
 * Pure data and functions over the model; nothing here is cleaned (the views clean what they
 * print), and nothing reads the disk.
 */
import {append} from '../append.ts';
import {shortId} from '../model/ids.ts';
import type {Container, Image, Layer, Model} from '../model/types.ts';
import {driverInfo, snapshotterRoot} from '../read/drivers/registry.ts';
import {imageById, layerByChainId} from '../model/indexes.ts';

/** One explained thing: a label (usually a path relative to the root) and what it is. */
export type Note = {
	readonly label: string;
	readonly text: string;
	/** The path is there only sometimes (after the first start, while mounted, not for a bottom layer). */
	readonly optional?: boolean;
	/** Written at a container's first start (docker start), not by docker create. */
	readonly firstStart?: boolean;
};
export type Section = {readonly heading: string; readonly intro: string; readonly notes: Note[]};

export type DriverFacts = {
	readonly driver: string;
	/** diff: each layer directory holds only its own changes; flattened: each holds a whole root file system. */
	readonly family: 'diff' | 'flattened' | 'unknown';
	/** Where a layer's files live, for a cache id. */
	layerDir(id: string): string;
	/** The files and directories the driver keeps for one layer, besides its files; a bottom layer (no parent) has fewer. */
	records(id: string, bottom?: boolean): Note[];
	/** How a deletion is recorded in a layer. */
	readonly whiteouts: string;
	/** Where the container's root file system (the union of its layers) appears, and when. */
	readonly mountPoint: (mountId: string) => Note | null;
	/** What the driver does at `docker create`. */
	readonly onCreate: string;
};

const containerdMetaDb = 'containerd/daemon/io.containerd.metadata.v1.bolt/meta.db';

/** The containerd image store's snapshotters (the reference layout notes §6): layers and container layers are snapshots in containerd. */
function isSnapshotter(driver: string | null): driver is string {
	return driverInfo(driver)?.containerd === true;
}

/** A driver's facts, from its entry in the drivers' table; a driver the table does not describe gets the generic words. */
export function driverFacts(driver: string | null): DriverFacts {
	const d = driver ?? 'unknown';
	const info = driverInfo(d);
	const e = info?.explain;
	const mount = e?.mount;
	const at = info?.unionMount;
	return {
		driver: d,
		family: info !== undefined && e !== undefined ? info.family : 'unknown',
		layerDir: id => info?.layerPath(id) ?? `${d}/${id}`,
		records: (id, bottom = false) => e?.records?.(id, bottom) ?? [],
		whiteouts: e?.whiteouts ?? 'not described for this driver',
		mountPoint: id =>
			mount === undefined || at === undefined
				? null
				: {label: `${at.replace('<id>', id)}/`, text: mount.text, ...(mount.optional === true ? {optional: true} : {})},
		onCreate: e?.onCreate ?? "creates an init and a RW layer on top of the image's top layer",
	};
}

/** What each placeholder of the init layer is for. */
export const initPlaceholders: readonly Note[] = [
	{label: '.dockerenv', text: 'an empty file; its presence tells programs inside that they run in a Docker container'},
	{label: 'dev/', text: 'mount point: at start the runtime mounts a small tmpfs of device nodes here'},
	{
		label: 'dev/console',
		text: "an empty placeholder: when the container has a terminal (-t), the runtime bind-mounts the terminal's device onto it",
	},
	{label: 'dev/pts/', text: "mount point for the container's own pseudo-terminal file system"},
	{label: 'dev/shm/', text: 'mount point for shared memory (a tmpfs whose size is --shm-size)'},
	{label: 'etc/', text: 'holds the placeholders etc/hostname, etc/hosts, etc/resolv.conf and etc/mtab'},
	{
		label: 'etc/hostname',
		text: "an empty placeholder: at start, containers/<id>/hostname (the container's host name) is bind-mounted over it",
	},
	{
		label: 'etc/hosts',
		text: "an empty placeholder: at start, containers/<id>/hosts (localhost, the container's address, --add-host entries) is bind-mounted over it",
	},
	{
		label: 'etc/resolv.conf',
		text: 'an empty placeholder: at start, containers/<id>/resolv.conf (the DNS servers the daemon chose) is bind-mounted over it',
	},
	{
		label: 'etc/mtab',
		text: "a symlink to /proc/mounts: tools that read /etc/mtab see the mounts of whatever mount namespace reads it (inside the container: the container's own)",
	},
	{label: 'proc/', text: "mount point for the container's /proc"},
	{label: 'sys/', text: 'mount point for /sys (read-only unless --privileged)'},
];

export function initPlaceholder(path: string): Note | undefined {
	const p = path.replace(/\/$/, '');
	return initPlaceholders.find(n => n.label.replace(/\/$/, '') === p);
}

export const whyInit =
	'Docker needs some paths to exist in every container, as targets for the mounts it makes at start (etc/hostname, etc/hosts, etc/resolv.conf, dev/console) or as small fixes (.dockerenv, the etc/mtab symlink). Writing them into a layer of their own, below the RW layer, keeps them out of what the container itself changed: docker diff, docker commit and docker export skip it. It is made once by docker create, with the same placeholders whether the container has started or not, and is not written again: what a process sees at those paths comes from the mounts made at each start.';

export const whatRw =
	"The container's writable (RW) layer: every file the container creates, changes or deletes lands here, never in the layers below. It starts empty at docker create; docker rm deletes it; docker commit turns it into a new image layer.";

export const whatImageLayer =
	'A read-only layer of an image: the changes one build step (or one layer of a pulled image) made. Layers are shared: every image and container whose chain contains this one uses the same directory.';

export const whatImage =
	'An image is a JSON config under image/<driver>/imagedb/content/sha256/<id>: its id is the sha256 of those exact bytes. rootfs.diff_ids lists its layers bottom first, history its build steps, and config the defaults a container starts with (Cmd, Env, WorkingDir, ...).';

export const whatContainer =
	"A container is a directory of config under containers/<id>/, plus two layers of its own on top of its image's layers: the init layer and the RW layer. docker create writes all of it (docker run = create + start); docker start only mounts the layers and runs the process.";

/** Chain id, diff id, cache id: the three names of a layer. */
export const idNotes: readonly Note[] = [
	{
		label: 'diff id',
		text: "sha256 of the layer's uncompressed tar: names its content alone, wherever it sits (listed in the image's rootfs.diff_ids)",
	},
	{
		label: 'chain id',
		text: 'names the layer together with everything below it: the bottom layer\'s chain id is its diff id, each next one is sha256("<parent chain id> <diff id>"); it names the directory under layerdb/sha256/',
	},
	{
		label: 'cache id',
		text: "a random id the daemon gave the layer's directory in the storage driver (layerdb/sha256/<chain>/cache-id); it says nothing about the content, so the same layer has different cache ids on different hosts",
	},
];

/** The files of a container's directory. */
const containerFiles: readonly Note[] = [
	{
		label: 'config.v2.json',
		text: 'the container itself: name, image id, state (running, exit code, times), the merged Config (image defaults plus the create options), mount points, log path',
	},
	{
		label: 'hostconfig.json',
		text: 'the host-side settings of the create request: binds, published ports, restart policy, resources, network mode, log driver (kept apart so docker update can rewrite it)',
	},
	{
		label: 'checkpoints/',
		text: 'where docker checkpoint (CRIU) keeps its images; empty unless that experimental feature was used',
	},
	{label: 'hostname', text: 'the host name, bind-mounted over etc/hostname inside', optional: true, firstStart: true},
	{
		label: 'hosts',
		text: "localhost, the container's own address and --add-host entries, bind-mounted over etc/hosts inside",
		optional: true,
		firstStart: true,
	},
	{
		label: 'resolv.conf',
		text: "the DNS settings, from the host's: bind-mounted over etc/resolv.conf inside",
		optional: true,
		firstStart: true,
	},
	{
		label: 'resolv.conf.hash',
		text: 'the hash of resolv.conf as the daemon wrote it, so it can tell whether someone edited the file',
		optional: true,
		firstStart: true,
	},
	{
		label: '<id>-json.log',
		text: 'the container\'s output with the json-file log driver (the default): one JSON object per line, {"log": the line with its newline, "stream": "stdout" or "stderr", "time": when the daemon read it, RFC 3339 with nanoseconds}; the daemon opens it at every start and appends, docker logs reads it, and --log-opt max-size/max-file rotate it to <id>-json.log.1, .2, … (compressed .gz with compress=true)',
		optional: true,
		firstStart: true,
	},
	{
		label: 'local-logs/',
		text: "the container's output with the local log driver (container.log: length-prefixed protobuf records)",
		optional: true,
		firstStart: true,
	},
	{
		label: 'mounts/',
		text: 'mount points for tmpfs mounts such as shm and secrets; their contents are never on disk',
		optional: true,
		firstStart: true,
	},
];

/**
 * The files of one container's directory, as they are for it: the log file named for its log driver,
 * and the files of the first start said to be missing yet when it never started.
 */
export function containerDirNotes(c: Pick<Container, 'id' | 'startedAt' | 'hostConfig'>): Note[] {
	const logType = (c.hostConfig?.LogConfig as {Type?: unknown} | undefined)?.Type;
	const driver = typeof logType === 'string' && logType !== '' ? logType : null;
	const out: Note[] = [];
	for (const n of containerFiles) {
		if (n.label === '<id>-json.log' && driver !== null && driver !== 'json-file') continue;
		if (n.label === 'local-logs/' && driver !== 'local') continue;
		const label = n.label === '<id>-json.log' ? `${c.id}-json.log` : n.label;
		if (n.firstStart !== true) out.push({...n, label});
		else if (c.startedAt === null)
			out.push({
				label,
				text: `not there yet: written at the first start, and this container never started. ${n.text}`,
				optional: true,
				firstStart: true,
			});
		// Started: all there (mounts/ only when the daemon made a mount there, such as the private /dev/shm).
		else
			out.push({
				label,
				text: `written at the first start: ${n.text}`,
				optional: n.label === 'mounts/',
				firstStart: true,
			});
	}
	return out;
}

export function containerFile(name: string, id?: string): Note | undefined {
	if (id !== undefined && name === `${id}-json.log`) return containerFiles.find(n => n.label === '<id>-json.log');
	if (/^[0-9a-f]{64}-json\.log(\.\d+(\.gz)?)?$/.test(name))
		return {
			label: name,
			text: name.endsWith('-json.log')
				? containerFiles.find(n => n.label === '<id>-json.log')!.text
				: 'a rotated json-file log (max-size / max-file)',
		};
	const base = name.replace(/\/$/, '');
	return containerFiles.find(n => n.label.replace(/\/$/, '') === base);
}

export const mountFiles: readonly Note[] = [
	{
		label: 'mount-id',
		text: "the cache id of the container's RW layer directory in the storage driver (random since Docker 1.10, not the container id)",
	},
	{label: 'init-id', text: 'the cache id of the init layer: always the mount id with "-init" appended'},
	{
		label: 'parent',
		text: "the chain id of the image's top layer, on which the init layer sits (absent when the image has no layers)",
	},
];

const layerRecordFiles: readonly Note[] = [
	{label: 'diff', text: "the layer's diff id (sha256 of its uncompressed tar)"},
	{label: 'parent', text: 'the chain id of the layer below; absent for a bottom layer'},
	{label: 'cache-id', text: "the name of the layer's directory in the storage driver"},
	{
		label: 'size',
		text: "the bytes of the layer's own files, as the driver measures them (differs between drivers for the same layer)",
	},
	{
		label: 'tar-split.json.gz',
		text: "the tar headers and padding of the layer's tar, so the exact tar (and its diff id) can be rebuilt from the files for docker save and push",
	},
];

export const imageMetadataFiles: readonly Note[] = [
	{label: 'parent', text: 'the image this one was built on (classic builder and docker commit only)'},
	{label: 'lastUpdated', text: 'when a tag last pointed here (written by docker tag and build -t, not by pull)'},
	{label: 'builtLocally', text: 'a marker for images built on this host (Docker 26 and later)'},
];

export function mountFile(name: string): Note | undefined {
	return mountFiles.find(n => n.label === name);
}

export function layerRecordFile(name: string): Note | undefined {
	return layerRecordFiles.find(n => n.label === name);
}

/** Explains one container and everything that links it, with its own ids and paths. */
export function explainContainer(model: Model, c: Container): Section[] {
	const facts = driverFacts(c.driver);
	const sections: Section[] = [];
	const dir = c.path;
	sections.push({
		heading: `container ${c.name ?? shortId(c.id)}`,
		intro: whatContainer,
		notes: containerDirNotes(c).map(n => ({...n, label: `${dir}/${n.label}`})),
	});
	sections.push(mountRecordSection(c));
	sections.push(rwLayerSection(c, facts));
	sections.push(initLayerSection(c, facts));
	sections.push({
		heading: `how a container is made (${facts.driver})`,
		intro: `At docker create the ${facts.driver} driver ${facts.onCreate}.`,
		notes: [],
	});
	const image = imageById(model, c.imageId, c.driver);
	if (image !== undefined) append(sections, explainImage(model, image));
	return sections;
}

/** Where the container's two layers are recorded: snapshots in meta.db, or the layer store's mount record. */
function mountRecordSection(c: Container): Section {
	if (isSnapshotter(c.driver))
		return {
			heading: 'its snapshots',
			intro:
				"In the containerd image store (Docker 24 and later, opt-in; the default from 29) there is no layerdb: the container's two layers are snapshots in containerd's meta.db, namespace moby, keyed by the container id: <id>-init (the init layer) and <id> (the RW layer, whose parent is <id>-init). Each names a backend key; the snapshotter's own metadata.db maps that key to the snapshot's directory number.",
			notes: [
				{
					label: containerdMetaDb,
					text: `snapshots/${c.driver}/${c.id} and snapshots/${c.driver}/${c.id}-init: key, parent, backend name${c.parentChainId !== null ? `; the init snapshot's parent is the image's top layer ${shortId(c.parentChainId)}...` : ''}`,
				},
				{
					label: `${snapshotterRoot(c.driver)}/metadata.db`,
					text: `backend key → directory id, kind (active, committed), size${c.mountId !== null ? `; here the RW snapshot is ${c.mountId}` : ''}${c.initId !== null ? ` and the init snapshot ${c.initId}` : ''}`,
				},
			],
		};
	const mountDir = `image/${c.driver ?? '<driver>'}/layerdb/mounts/${c.id}`;
	return {
		heading: 'its mount record',
		intro:
			"docker create records the container's two layers in the layer store, under layerdb/mounts/<container id>/. Container layers appear only here, never under layerdb/sha256/: they have no content id, because they can still change.",
		notes: [
			{
				label: `${mountDir}/mount-id`,
				text: `${mountFiles[0]!.text}${c.mountId !== null ? `; here ${shortId(c.mountId)}...` : ''}`,
			},
			{
				label: `${mountDir}/init-id`,
				text: `${mountFiles[1]!.text}${c.initId !== null ? `; here ${shortId(c.initId)}...-init` : ''}`,
			},
			{
				label: `${mountDir}/parent`,
				text: `${mountFiles[2]!.text}${c.parentChainId !== null ? `; here ${shortId(c.parentChainId)}...` : ''}`,
			},
		],
	};
}

/** The container's RW layer: its directory, how deletions are kept, its mount point and records. */
function rwLayerSection(c: Container, facts: DriverFacts): Section {
	const rw = c.chain.find(e => e.role === 'rw');
	const mp = c.mountId === null ? null : facts.mountPoint(c.mountId);
	const running = c.status === 'running' || c.status === 'paused' || c.status === 'restarting';
	return {
		heading: `RW layer (${facts.driver})`,
		intro: whatRw,
		notes: [
			...(rw?.path != null
				? [
						{
							label: `${rw.path}/`,
							text:
								facts.family === 'flattened'
									? 'a complete copy of the image plus the init placeholders plus whatever the container changed'
									: 'only what the container changed; empty right after docker create',
						},
					]
				: []),
			{label: 'deletions', text: facts.whiteouts},
			...(mp === null
				? []
				: [
						{
							...mp,
							text: mp.text + (running ? ' (the state says this container was running when the copy was taken)' : ''),
						},
					]),
			...(c.mountId === null
				? []
				: facts
						.records(c.mountId, false)
						.filter(n => !n.label.endsWith('/diff/') && !n.label.endsWith('/committed') && n.label !== `${rw?.path}/`)),
		],
	};
}

/** The container's init layer and the placeholders it holds. */
function initLayerSection(c: Container, facts: DriverFacts): Section {
	const init = c.chain.find(e => e.role === 'init');
	return {
		heading: `init layer (${facts.driver})`,
		intro: whyInit,
		notes: [
			...(init?.path != null ? [{label: `${init.path}/`, text: 'holds the placeholders below'}] : []),
			...initPlaceholders.map(n => ({label: n.label, text: n.text})),
		],
	};
}

/** Explains an image, its layers and the three ids of a layer. */
export function explainImage(model: Model, i: Image): Section[] {
	const facts = driverFacts(i.driver);
	const top = i.chainIds.at(-1);
	const layer = top === undefined ? undefined : layerByChainId(model, top, i.driver);
	const notes: Note[] = isSnapshotter(i.driver)
		? [
				{
					label: i.path,
					text: "the image's manifest (or index) in containerd's content store: its sha256 is the image id; it names the config blob (rootfs.diff_ids, history, the defaults a container starts with) and the compressed layer blobs",
				},
				{
					label: containerdMetaDb,
					text: 'images/<name>: each tag, fully qualified (docker.io/library/busybox:latest), points to the manifest digest; an untagged image is named moby-dangling@<digest>; the label org.mobyproject.image.parent records the parent of a classic build step',
				},
			]
		: [
				{label: i.path, text: 'the image config; its sha256 is the image id'},
				{
					label: `image/${i.driver}/imagedb/metadata/sha256/${i.id.replace(/^sha256:/, '')}/`,
					text: `local facts about the image, when there are any (a pulled, never tagged image has none): ${imageMetadataFiles.map(n => `${n.label}: ${n.text}`).join('; ')}`,
					optional: true,
				},
				{
					label: `image/${i.driver}/repositories.json`,
					text: 'maps tags (repo:tag) and digests (repo@sha256:...) to image ids; an untagged image is simply absent from it',
				},
			];
	const sections: Section[] = [{heading: `image ${i.tags[0] ?? shortId(i.id)}`, intro: whatImage, notes}];
	if (layer !== undefined) append(sections, explainLayer(model, layer, facts));
	else sections.push({heading: 'the three names of a layer', intro: '', notes: [...idNotes]});
	return sections;
}

/** Explains a layer: its record in layerdb, its directory in the driver, and the three ids. */
export function explainLayer(_model: Model, l: Layer, facts: DriverFacts = driverFacts(l.driver)): Section[] {
	const hex = l.chainId.replace(/^sha256:/, '');
	const meta = `image/${l.driver}/layerdb/sha256/${hex}`;
	const bottom = l.parent === null;
	if (isSnapshotter(l.driver)) {
		return [
			{
				heading: `image layer ${shortId(l.chainId)} (${facts.driver})`,
				intro: whatImageLayer,
				notes: [
					{
						label: containerdMetaDb,
						text: `snapshots/${l.driver}/${l.chainId}: the layer's committed snapshot, keyed by its chain id, with its parent${l.parent !== null ? ` (${shortId(l.parent)}...)` : ''} and backend name`,
					},
					{
						label: `${snapshotterRoot(l.driver)}/metadata.db`,
						text: `backend key → directory id${l.cacheId !== null ? ` (here ${l.cacheId})` : ''}, kind, and the disk usage recorded at commit`,
					},
					...(l.cacheId === null ? [] : facts.records(l.cacheId, bottom)),
					{label: 'deletions', text: facts.whiteouts},
				],
			},
			{heading: 'the three names of a layer', intro: '', notes: [...idNotes]},
		];
	}
	return [
		{
			heading: `image layer ${shortId(l.chainId)} (${facts.driver})`,
			intro: whatImageLayer,
			notes: [
				...layerRecordFiles
					.filter(n => !(bottom && n.label === 'parent'))
					.map(n => ({label: `${meta}/${n.label}`, text: n.text})),
				...(l.cacheId === null ? [] : facts.records(l.cacheId, bottom)),
				{label: 'deletions', text: facts.whiteouts},
			],
		},
		{heading: 'the three names of a layer', intro: '', notes: [...idNotes]},
	];
}

/** One line for each layer role, under the explorer's title of a layer; agrees with whatRw, whyInit and whatImageLayer. */
export const roleText = {
	rw: 'RW layer: what this container wrote, changed or deleted (the writable top of its overlay)',
	init: 'init layer: placeholders docker create writes once, below the RW layer',
	image: 'image layer: read-only, made by one build step, shared by all images and containers above it',
} as const;

/**
 * The guide printed under `tree --explain`: the first container shown of each driver, explained
 * with its own paths and ids; then, when no container was shown, the first image; then the
 * three names of a layer once.
 */
export function explainSelection(model: Model, containers: readonly Container[], images: readonly Image[]): Section[] {
	const out: Section[] = [];
	const seen = new Set<string>();
	const push = (sections: Section[]) => {
		for (const s of sections) {
			const key = s.heading.startsWith('the three names') ? s.heading : `${s.heading}\0${s.intro}`;
			if (seen.has(key)) continue;
			seen.add(key);
			out.push(s);
		}
	};
	const drivers = new Set<string>();
	for (const c of containers) {
		const d = c.driver ?? '';
		if (drivers.has(d)) continue;
		drivers.add(d);
		push(explainContainer(model, c));
	}
	if (containers.length === 0 && images[0] !== undefined) push(explainImage(model, images[0]));
	if (!seen.has('the three names of a layer'))
		push([{heading: 'the three names of a layer', intro: '', notes: [...idNotes]}]);
	return out;
}
