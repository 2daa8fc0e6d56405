// BuildKit's cache records (src/read/buildkit.ts) from metadata_v2.db files built in code (moby/buildkit
// cache/metadata/metadata.go: bucket _main, one bucket per record, each field a JSON {"value": …}): the
// field forms a real file holds (see test/dockerd/buildkit.ts for real ones), then hostile ones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {openSource} from '../../src/load.ts';
import {readBuildCache} from '../../src/read/buildkit.ts';
import {wb, writeBolt} from '../helpers/bbolt-writer.ts';

function rootWith(files: Record<string, Buffer>): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-bk-'));
	for (const [rel, data] of Object.entries(files)) {
		fs.mkdirSync(path.dirname(path.join(dir, rel)), {recursive: true});
		fs.writeFileSync(path.join(dir, rel), data);
	}
	return dir;
}

const v = (x: unknown) => JSON.stringify({value: x});

test('records: every field form, nanosecond times kept exactly, an absent usage count is 0', () => {
	const db = writeBolt(
		wb({
			_main: wb({
				rec1: wb({
					'cache.description': v('mount / from exec /bin/sh -c echo hi'),
					'cache.createdAt': '{"value":1795950164941636632}',
					'cache.lastUsedAt': '{"value":1795950166217530452,"index":"lastUsed"}',
					'cache.usageCount': v(3),
					'snapshot.size': v(20635),
					'snapshot.committed': v(true),
					'cache.parent': v('rec0'),
					'cache.diffID': v(`sha256:${'a'.repeat(64)}`),
				}),
				rec2: wb({'cache.recordType': v('exec.cachemount')}),
			}),
		}),
	);
	const dir = rootWith({'buildkit/containerd-overlayfs/metadata_v2.db': db});
	try {
		const c = readBuildCache(openSource(dir));
		assert.equal(c.findings, []);
		assert.equal(c.databases, ['buildkit/containerd-overlayfs/metadata_v2.db']);
		const r1 = c.records.find(r => r.id === 'rec1')!;
		assert.is(r1.createdAt, '2026-11-29T11:02:44.941636632Z');
		assert.is(r1.lastUsedAt, '2026-11-29T11:02:46.217530452Z');
		assert.equal(
			[r1.usageCount, r1.size, r1.committed, r1.parent, r1.description],
			[3, 20635, true, 'rec0', 'mount / from exec /bin/sh -c echo hi'],
		);
		assert.equal(
			c.records.find(r => r.id === 'rec2'),
			{id: 'rec2', recordType: 'exec.cachemount', usageCount: 0},
		);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('hostile fields are left out, never guessed; a damaged file is a finding; nothing throws', () => {
	const huge = `{"value":"${'x'.repeat((1 << 20) + 10)}"}`;
	const db = writeBolt(
		wb({
			_main: wb({
				bad: wb({
					'cache.description': v(42),
					'cache.createdAt': v('yesterday'),
					'cache.lastUsedAt': '{"value":-5}',
					'cache.usageCount': v(1e300),
					'snapshot.size': '{"value":12',
					'snapshot.committed': v('true'),
					'cache.parent': huge,
					'cache.diffID': '[1,2,3]',
				}),
				notABucket: 'plain value',
			}),
		}),
		{inlineMax: 0},
	);
	const dir = rootWith({
		'buildkit/metadata_v2.db': db,
		'buildkit/w/metadata_v2.db': Buffer.from('not bbolt at all, just bytes'),
	});
	try {
		const c = readBuildCache(openSource(dir));
		assert.equal(c.records, [{id: 'bad'}]);
		assert.equal(
			c.findings.map(f => [f.severity, f.code, f.path]),
			[['error', 'db.invalid', 'buildkit/w/metadata_v2.db']],
		);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test.run();
