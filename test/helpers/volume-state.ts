// A real dockerd state with volumes and networks: a named volume with labels and
// options, an anonymous volume, a bind mount, and user-defined networks; what the daemon
// itself says about them (`docker volume inspect`, `docker network inspect`, `docker inspect`)
// is recorded as the oracle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {busyboxRootfsTar} from './real-states.ts';
import type {Daemon} from './dockerd.ts';

export type VolumeExpected = {
	volumes: any[];
	networks: any[];
	containers: any[];
	/** What worked and what did not on this host (network drivers). */
	notes: string[];
	/** Names of the networks created by the scenario. */
	madeNetworks: string[];
	/** Bytes written into the named volume's _data (file content lengths). */
	namedVolumeBytes: number;
	/** Pid of the running container's process (to end it after the daemon is killed). */
	sleeperPid: number | null;
};

export function makeVolumeState(daemon: Daemon): VolumeExpected {
	const d = daemon.docker;
	const notes: string[] = [];
	const work = path.join(daemon.dir, 'work');
	fs.rmSync(work, {recursive: true, force: true});
	d(['import', '-c', 'VOLUME /anon', '-', 'local/busybox:1'], {input: busyboxRootfsTar(path.join(work, 'rootfs'))});
	d(['volume', 'create', '--label', 'owner=alice', '--label', 'env=test', 'named']);
	d(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'withopts']);
	const bind = path.join(work, 'bind');
	fs.mkdirSync(bind, {recursive: true});
	const madeNetworks: string[] = [];
	const tries: Array<[string, string[]]> = [
		[
			'internal',
			[
				'network',
				'create',
				'-d',
				'bridge',
				'--internal',
				'--subnet',
				'10.77.0.0/24',
				'--label',
				'team=red',
				'internal',
			],
		],
		['plainbridge', ['network', 'create', '-d', 'bridge', 'plainbridge']],
		['nullnet', ['network', 'create', '-d', 'null', 'nullnet']],
		['hostnet', ['network', 'create', '-d', 'host', 'hostnet']],
		['macv', ['network', 'create', '-d', 'macvlan', '--internal', '--subnet', '10.78.0.0/24', 'macv']],
	];
	for (const [name, args] of tries) {
		try {
			d(args);
			madeNetworks.push(name);
			notes.push(`docker ${args.join(' ')}: ok`);
		} catch (e) {
			notes.push(`docker ${args.join(' ')}: failed: ${(e as Error).message.split('\n')[0]}`);
		}
	}
	// writer: named volume at /data, anonymous volume at /anon (from the image's VOLUME), a bind mount.
	const net = madeNetworks.includes('internal') ? ['--network', 'internal'] : ['--network', 'none'];
	d([
		'run',
		'--name',
		'writer',
		...net,
		'-v',
		'named:/data',
		'-v',
		`${bind}:/bind:ro`,
		'local/busybox:1',
		'sh',
		'-c',
		'echo hello > /data/a.txt; echo 0123456789 > /data/b.txt; echo x > /anon/x',
	]);
	// reader: same named volume read-only at another path, created only.
	d([
		'create',
		'--name',
		'reader',
		'--network',
		'none',
		'-v',
		'named:/mnt/named:ro',
		'-v',
		'withopts:/t',
		'local/busybox:1',
		'true',
	]);
	// A running container on the internal network, so there are endpoints (stopped with the daemon: --stop-timeout 1).
	if (madeNetworks.includes('internal')) {
		try {
			d([
				'run',
				'-d',
				'--stop-timeout',
				'1',
				'--name',
				'sleeper',
				'--network',
				'internal',
				'--ip',
				'10.77.0.50',
				'local/busybox:1',
				'sleep',
				'1000',
			]);
		} catch (e) {
			notes.push(`run on internal network: ${(e as Error).message.split('\n')[0]}`);
		}
	}
	const volumes = JSON.parse(d(['volume', 'inspect', ...d(['volume', 'ls', '-q']).split('\n').filter(Boolean)]));
	const networks = JSON.parse(
		d(['network', 'inspect', ...d(['network', 'ls', '-q', '--no-trunc']).split('\n').filter(Boolean)]),
	);
	const ids = d(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
	const containers = JSON.parse(d(['inspect', '--type', 'container', ...ids]));
	const sleeper = containers.find((c: any) => c.Name === '/sleeper');
	const sleeperPid = sleeper !== undefined && sleeper.State.Pid > 0 ? Number(sleeper.State.Pid) : null;
	return {
		volumes,
		networks,
		containers,
		notes,
		madeNetworks,
		namedVolumeBytes: 'hello\n'.length + '0123456789\n'.length,
		sleeperPid,
	};
}
