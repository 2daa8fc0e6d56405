import type {Finding} from '../finding.ts';
import type {DriverRecord, HostDriverRecord} from '../read/drivers/meta.ts';

export type {DriverRecord, DriverValue, HostDriverRecord} from '../read/drivers/meta.ts';

/** docker ps's status words. */
export type Status = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export type HistoryEntry = {
	readonly created: string | null;
	readonly createdBy: string | null;
	readonly comment: string | null;
	readonly emptyLayer: boolean;
	/** The layer this step made; null for steps that made none (ENV, CMD, …). */
	readonly chainId: string | null;
};

export type Image = {
	readonly id: string;
	readonly driver: string;
	readonly tags: string[];
	readonly digests: string[];
	readonly created: string | null;
	/** Bottom first, as rootfs.diff_ids. */
	readonly diffIds: string[];
	/** Same order as diffIds, computed from them. */
	readonly chainIds: string[];
	readonly parent: string | null;
	readonly children: string[];
	/** Untagged and parent of another image (docker images -a shows it, docker images hides it). */
	readonly intermediate: boolean;
	/** Untagged and no children. */
	readonly dangling: boolean;
	readonly history: HistoryEntry[];
	/** Sum of its layers' sizes (what docker images shows). */
	readonly size: number | null;
	readonly lastUpdated: string | null;
	readonly config: Readonly<Record<string, unknown>> | null;
	readonly architecture: string | null;
	readonly os: string | null;
	/** From the image config: `author` (docker commit -a, MAINTAINER), `comment` (docker commit -m, import -m), `container` and `container_config` (the container a `docker commit` was made from), `docker_version`. */
	readonly author?: string | null;
	readonly comment?: string | null;
	readonly container?: string | null;
	readonly containerConfig?: Readonly<Record<string, unknown>> | null;
	readonly dockerVersion?: string | null;
	readonly containers: string[];
	readonly path: string;
};

/**
 * What is wrong with a layer's content directory (overlay2 / fuse-overlayfs `<id>/diff`, legacy
 * overlay `<id>/root` or a container's `<id>/upper`) while its layer directory is there: missing,
 * a symlink (never followed), not a directory, unreadable, or (an image layer) empty though layerdb
 * records bytes. Absent when it is fine.
 */
export type ContentDamage = {
	readonly state: 'missing' | 'symlink' | 'not-a-dir' | 'unreadable' | 'empty';
	readonly path: string;
};

export type Layer = {
	readonly chainId: string;
	readonly diffId: string | null;
	readonly parent: string | null;
	readonly cacheId: string | null;
	readonly size: number | null;
	readonly driver: string;
	/** Directory holding the layer's files, relative to the root. */
	readonly path: string | null;
	readonly pathExists: boolean;
	/** image/<driver>/distribution/: the compressed blobs this layer was pulled or pushed as, with the repository (null: only diffid-by-digest names it). */
	readonly distribution?: ReadonlyArray<{
		readonly digest: string;
		readonly sourceRepository: string | null;
		readonly hmac: string | null;
	}>;
	/** Images whose chain contains it, and containers whose chain contains it. */
	readonly images: string[];
	readonly containers: string[];
	/** The history entry that made it, from the first image that has one. */
	readonly createdBy: string | null;
	readonly metaPath: string;
	/** Its content directory cannot be read whole (see ContentDamage); absent when it can. */
	readonly contentDamage?: ContentDamage;
	/** What the storage driver records about it outside its files (devicemapper device record, btrfs quota, windowsfilter layer chain, zfs dataset). */
	readonly driverRecord?: DriverRecord;
};

export type ChainEntry = {
	readonly role: 'rw' | 'init' | 'image';
	readonly cacheId: string | null;
	readonly chainId?: string;
	readonly diffId?: string | null;
	readonly path: string | null;
	/** The layer's directory exists (devicemapper: its device record; zfs: always, nothing in the root can tell). */
	readonly pathExists: boolean;
	/** Its content directory cannot be read whole (see ContentDamage); absent when it can. */
	readonly contentDamage?: ContentDamage;
	/** What the storage driver records about this layer outside its files (see Layer.driverRecord). */
	readonly driverRecord?: DriverRecord;
};

export type Container = {
	readonly id: string;
	readonly name: string | null;
	readonly imageId: string | null;
	/** What the user typed (Config.Image). */
	readonly imageRef: string | null;
	/** The image's tags, when the image is there. */
	readonly imageTags: string[];
	readonly status: Status | null;
	readonly created: string | null;
	readonly startedAt: string | null;
	readonly finishedAt: string | null;
	readonly exitCode: number | null;
	readonly error: string | null;
	/** Path then Args joined as the daemon shows them (docker ps COMMAND, API `Command`): an argument with a space in single quotes. */
	readonly command: string | null;
	/** Path then Args, as stored (no argument dropped, none joined). */
	readonly argv?: readonly string[] | null;
	readonly driver: string | null;
	readonly mountId: string | null;
	readonly initId: string | null;
	readonly parentChainId: string | null;
	/** Top first: RW layer, init layer, image layers from the top down. */
	readonly chain: ChainEntry[];
	readonly config: Readonly<Record<string, unknown>> | null;
	readonly hostConfig: Readonly<Record<string, unknown>> | null;
	readonly mountPoints: Readonly<Record<string, unknown>> | null;
	/** config.v2.json as stored, all but `Config` (State with Pid, OOMKilled, Health; LogPath; NetworkSettings; RestartCount; …). */
	readonly stored?: Readonly<Record<string, unknown>> | null;
	readonly path: string;
};

/** Where a container mounts a volume (from its config's MountPoints). */
export type VolumeMount = {
	readonly containerId: string;
	readonly containerName: string | null;
	readonly destination: string;
	readonly rw: boolean | null;
};

export type Volume = {
	readonly name: string;
	readonly driver: string | null;
	readonly labels: Readonly<Record<string, string>> | null;
	readonly options: Readonly<Record<string, string>> | null;
	/** Listed in volumes/metadata.db (docker volume ls shows it). */
	readonly inDb: boolean;
	/** `volumes/<name>`, relative to the root, when it exists. */
	readonly path: string | null;
	/** `volumes/<name>/_data` when it is a directory. */
	readonly dataPath: string | null;
	/** Bytes of the regular files under _data; null when not sized. */
	readonly size: number | null;
	readonly fileCount: number | null;
	/** _data's modification time, ISO 8601 (docker volume inspect's CreatedAt for local volumes, to the second). */
	readonly dataModified: string | null;
	/** volumes/<name>/opts.json as stored. */
	readonly opts: Readonly<Record<string, unknown>> | null;
	readonly mounts: VolumeMount[];
};

export type NetworkSubnet = {readonly subnet: string; readonly gateway: string | null};

/** A container attached to a network: from its config (NetworkSettings.Networks) and, when on disk, libnetwork's endpoint. */
export type NetworkAttachment = {
	readonly containerId: string | null;
	readonly containerName: string | null;
	readonly endpointId: string | null;
	readonly endpointName: string | null;
	readonly ipAddress: string | null;
	readonly macAddress: string | null;
	/** 'config': only the container's config names it; 'endpoint': only local-kv.db; 'both'. */
	readonly source: 'config' | 'endpoint' | 'both';
};

export type Network = {
	readonly id: string;
	readonly name: string | null;
	readonly driver: string | null;
	readonly scope: string | null;
	readonly internal: boolean | null;
	readonly attachable: boolean | null;
	readonly ipv6: boolean | null;
	readonly created: string | null;
	readonly labels: Readonly<Record<string, string>> | null;
	readonly ipamDriver: string | null;
	readonly subnets: NetworkSubnet[];
	readonly bridgeName: string | null;
	readonly containers: NetworkAttachment[];
};

/** A BuildKit build cache record (what docker buildx du lists), from its metadata_v2.db. */
export type BuildRecord = {
	readonly id: string;
	readonly description: string | null;
	/** regular, source.local, exec.cachemount, frontend, internal (absent in the database: regular). */
	readonly type: string;
	/** Bytes BuildKit measured; null until it has (du then measures it live). */
	readonly size: number | null;
	readonly createdAt: string | null;
	readonly lastUsedAt: string | null;
	readonly usageCount: number | null;
	readonly parent: string | null;
	/** The snapshot was committed; false or null: a mutable record (a cache mount, a context). */
	readonly committed: boolean | null;
	readonly diffId: string | null;
	readonly blob: string | null;
};

export type BuildCache = {
	/** The metadata_v2.db files read, relative to the root. */
	readonly databases: string[];
	readonly records: BuildRecord[];
	/** Sum of the recorded sizes. */
	readonly size: number;
};

export type Model = {
	readonly root: string;
	readonly sourceKind: 'dir' | 'archive';
	/**
	 * --containerd-root: a system containerd's root (directory or archive) read as if it were at
	 * `shownAs` (containerd/daemon) under the Docker root; paths under `shownAs` are in `location`.
	 */
	readonly containerdRoot?: {readonly location: string; readonly kind: 'dir' | 'archive'; readonly shownAs: string};
	readonly layout: string;
	readonly drivers: string[];
	readonly images: Image[];
	readonly layers: Layer[];
	readonly containers: Container[];
	/** Volumes (volumes/metadata.db and volumes/<name>/); absent when not read (ls). */
	readonly volumes?: Volume[];
	/** Networks (network/files/local-kv.db); absent when not read. */
	readonly networks?: Network[];
	/** What storage drivers record about themselves (devicemapper's device set, pool files); absent when not read. */
	readonly driverRecords?: HostDriverRecord[];
	/** BuildKit's build cache; absent when not read (ls). */
	readonly buildCache?: BuildCache;
	readonly findings: Finding[];
};
