import type {Finding} from '../finding.ts';

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
	readonly containers: string[];
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
	/** Images whose chain contains it, and containers whose chain contains it. */
	readonly images: string[];
	readonly containers: string[];
	/** The history entry that made it, from the first image that has one. */
	readonly createdBy: string | null;
	readonly metaPath: string;
};

export type ChainEntry = {
	readonly role: 'rw' | 'init' | 'image';
	readonly cacheId: string | null;
	readonly chainId?: string;
	readonly diffId?: string | null;
	readonly path: string | null;
	readonly pathExists: boolean;
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
	readonly command: string | null;
	readonly driver: string | null;
	readonly mountId: string | null;
	readonly initId: string | null;
	readonly parentChainId: string | null;
	/** Top first: RW layer, init layer, image layers from the top down. */
	readonly chain: ChainEntry[];
	readonly config: Readonly<Record<string, unknown>> | null;
	readonly hostConfig: Readonly<Record<string, unknown>> | null;
	readonly mountPoints: Readonly<Record<string, unknown>> | null;
	readonly path: string;
};

export type Model = {
	readonly root: string;
	readonly sourceKind: 'dir' | 'archive';
	readonly layout: string;
	readonly drivers: string[];
	readonly images: Image[];
	readonly layers: Layer[];
	readonly containers: Container[];
	readonly findings: Finding[];
};
