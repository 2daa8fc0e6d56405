import type {Finding} from '../../src/finding.ts';
import type {Container, Image, Layer, Model} from '../../src/model/types.ts';

const hex = (n: number, salt: string) => {
	let s = '';
	let x = n * 2654435761 + salt.length * 97 + salt.charCodeAt(0);
	while (s.length < 64) {
		x = (x * 1103515245 + 12345) % 2147483648;
		s += x.toString(16).padStart(8, '0');
	}
	return s.slice(0, 64);
};

/**
 * A model built in code: `containers` containers over `images` images of `layers` layers each
 * (all sharing the bottom layer), plus one image no container uses, and a few findings.
 * Deterministic. Big values make the 3000-container shape of the benchmark.
 */
export function syntheticModel(
	opts: {containers?: number; images?: number; layers?: number; findings?: boolean} = {},
): Model {
	const nc = opts.containers ?? 4;
	const ni = opts.images ?? 2;
	const nl = opts.layers ?? 3;
	const driver = 'overlay2';
	const layers: Layer[] = [];
	const layerIds = new Map<string, Layer>();
	const images: Image[] = [];
	const containers: Container[] = [];
	const chainOf = (img: number, k: number) =>
		k === 0 ? `sha256:${hex(0, 'chain')}` : `sha256:${hex(img * 100 + k, 'chain')}`;
	for (let i = 0; i <= ni; i++) {
		const chainIds = Array.from({length: nl}, (_, k) => chainOf(i, k));
		const id = `sha256:${hex(i, 'image')}`;
		const lonely = i === ni;
		images.push({
			id,
			driver,
			tags: lonely ? [] : [`app/img-${String(i + 1).padStart(2, '0')}:1`],
			digests: [],
			created: '2024-01-02T03:04:05.123456789Z',
			diffIds: chainIds.map(c => c.replace('chain', 'diff')),
			chainIds,
			parent: null,
			children: [],
			intermediate: false,
			dangling: lonely,
			history: chainIds.map((c, k) => ({
				created: '2024-01-02T03:04:05Z',
				createdBy: k === 0 ? '/bin/sh -c #(nop) ADD file:abc in / ' : `/bin/sh -c echo step ${k} > /f${k}`,
				comment: null,
				emptyLayer: false,
				chainId: c,
			})),
			size: 1_150_000 + i,
			lastUpdated: null,
			config: {Cmd: ['sh'], Env: ['PATH=/usr/bin:/bin'], WorkingDir: '/', Labels: {maintainer: 'me'}},
			architecture: 'amd64',
			os: 'linux',
			containers: [],
			path: `image/${driver}/imagedb/content/sha256/${id.slice(7)}`,
		});
		chainIds.forEach((chainId, k) => {
			if (layerIds.has(chainId)) return;
			const cache = hex(i * 100 + k, 'cache');
			const l: Layer = {
				chainId,
				diffId: chainId.replace('chain', 'diff'),
				parent: k === 0 ? null : chainIds[k - 1]!,
				cacheId: cache,
				size: 1000 * (k + 1),
				driver,
				path: `overlay2/${cache}/diff`,
				pathExists: true,
				images: [],
				containers: [],
				createdBy: k === 0 ? '/bin/sh -c #(nop) ADD file:abc in / ' : `/bin/sh -c echo step ${k} > /f${k}`,
				metaPath: `image/${driver}/layerdb/sha256/${chainId.slice(7)}`,
			};
			layerIds.set(chainId, l);
			layers.push(l);
		});
	}
	for (let n = 0; n < nc; n++) {
		const img = images[n % ni]!;
		const id = hex(n, 'container');
		const mount = hex(n, 'mount');
		containers.push({
			id,
			name: `c-${String(n + 1).padStart(4, '0')}`,
			imageId: img.id,
			imageRef: img.tags[0]!,
			imageTags: img.tags,
			status: n % 3 === 0 ? 'running' : 'exited',
			created: '2024-02-03T04:05:06.1Z',
			startedAt: '2024-02-03T04:05:07.1Z',
			finishedAt: n % 3 === 0 ? null : '2024-02-03T04:06:07.1Z',
			exitCode: n % 3 === 0 ? 0 : n % 3,
			error: null,
			command: 'sh -c true',
			driver,
			mountId: mount,
			initId: `${mount}-init`,
			parentChainId: img.chainIds[img.chainIds.length - 1]!,
			chain: [
				{role: 'rw', cacheId: mount, path: `overlay2/${mount}/diff`, pathExists: true},
				{role: 'init', cacheId: `${mount}-init`, path: `overlay2/${mount}-init/diff`, pathExists: true},
				...[...img.chainIds].reverse().map(c => ({
					role: 'image' as const,
					cacheId: layerIds.get(c)!.cacheId,
					chainId: c,
					diffId: layerIds.get(c)!.diffId,
					path: layerIds.get(c)!.path,
					pathExists: true,
				})),
			],
			config: {
				Hostname: id.slice(0, 12),
				Env: ['PATH=/usr/bin:/bin', 'A=1'],
				Cmd: ['sh', '-c', 'true'],
				Image: img.tags[0],
				WorkingDir: '',
				Entrypoint: null,
				Labels: {},
			},
			hostConfig: {
				Binds: ['/srv:/data:ro'],
				PortBindings: {'80/tcp': [{HostIp: '', HostPort: '8080'}]},
				RestartPolicy: {Name: 'always', MaximumRetryCount: 0},
				Privileged: n === 1,
				CapAdd: n === 1 ? ['NET_ADMIN'] : null,
				CapDrop: null,
				NetworkMode: 'bridge',
			},
			mountPoints: {'/data': {Source: '/srv', Destination: '/data', RW: false, Type: 'bind'}},
			path: `containers/${id}`,
		});
	}
	for (const c of containers) {
		images.find(i => i.id === c.imageId)!.containers.push(c.id);
		for (const e of c.chain) if (e.chainId !== undefined) layerIds.get(e.chainId)!.containers.push(c.id);
	}
	for (const i of images) for (const chainId of i.chainIds) layerIds.get(chainId)!.images.push(i.id);
	const findings: Finding[] = [];
	if (opts.findings ?? true) {
		findings.push({
			severity: 'error',
			code: 'container.layer-dir-missing',
			subject: `container:${containers[1 % nc]!.id}`,
			path: containers[1 % nc]!.chain[0]!.path!,
			message: 'its RW directory is gone',
		});
		findings.push({
			severity: 'warning',
			code: 'layer.dir-missing',
			subject: `layer:${images[ni]!.chainIds[nl - 1]!}`,
			message: 'the layer directory is gone',
		});
		findings.push({
			severity: 'info',
			code: 'entry.unexpected',
			subject: 'store:overlay2',
			path: 'overlay2/junk',
			message: 'an entry that is not a layer id',
		});
	}
	return {
		root: '/var/lib/docker',
		sourceKind: 'dir',
		layout: 'v2',
		drivers: [driver],
		images,
		layers,
		containers,
		findings,
	};
}
