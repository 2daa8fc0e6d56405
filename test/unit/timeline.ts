import {test} from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import {loadModel, openRoot} from '../../src/load.ts';
import {buildTimeline, localEntries} from '../../src/timeline/events.ts';
import {isoMicros, toMicros} from '../../src/timeline/time.ts';
import {timelineCsv, timelineJsonl, timelineTable} from '../../src/view/timeline-text.ts';
import type {Expected} from '../helpers/real-states.ts';

const repo = path.join(import.meta.dirname, '..', '..');
const expected = JSON.parse(fs.readFileSync(path.join(repo, 'sample', 'expected.json'), 'utf8')) as Expected;

async function sample() {
	const opened = await openRoot(path.join(repo, 'sample', 'docker.tar.gz'));
	if (!opened.ok) throw new Error(opened.error);
	return {...loadModel(opened.source), source: opened.source};
}

test('times keep microseconds and are UTC', () => {
	assert.is(toMicros('2026-11-29T07:22:13.176762727Z'), Date.UTC(2026, 10, 29, 7, 22, 13) * 1000 + 176762);
	assert.is(toMicros('2026-11-29T08:22:13.5+01:00'), Date.UTC(2026, 10, 29, 7, 22, 13) * 1000 + 500000);
	assert.is(toMicros('0001-01-01T00:00:00Z'), null);
	assert.is(toMicros('yesterday'), null);
	assert.is(isoMicros(Date.UTC(2026, 10, 29, 7, 22, 13) * 1000 + 176762), '2026-11-29T07:22:13.176762Z');
});

test('the sample: container events match docker inspect; log lines match docker logs --timestamps (json-file and local)', async () => {
	const {model, source} = await sample();
	const events = await buildTimeline(model, source, {files: false, logs: true});
	for (const c of expected.containers) {
		const name = String(c.Name).slice(1);
		const mine = events.filter(e => e.subject === `container:${c.Id}`);
		const at = (kind: string) => mine.find(e => e.kind === kind)?.source_time ?? null;
		assert.is(at('container.created'), c.Created, `${name} created`);
		assert.is(
			at('container.started'),
			c.State.StartedAt.startsWith('0001') ? null : c.State.StartedAt,
			`${name} started`,
		);
		assert.is(
			at('container.finished'),
			c.State.FinishedAt.startsWith('0001') ? null : c.State.FinishedAt,
			`${name} finished`,
		);
		const lines = mine
			.filter(e => e.kind === 'log.line')
			.map(e => [
				toMicros(e.source_time),
				e.message.replace(`container ${name} `, '').replace(/^(stdout|stderr): /, ''),
			]);
		const theirs = (expected.logs[name] ?? []).map(l => [
			toMicros(l.slice(0, l.indexOf(' '))),
			l.slice(l.indexOf(' ') + 1),
		]);
		assert.equal(lines.sort(), theirs.sort(), `${name} log lines`);
	}
	assert.ok(
		events.some(e => e.kind === 'log.line' && e.source.endsWith('local-logs/container.log')),
		'local driver read',
	);
	// Oldest first.
	for (let i = 1; i < events.length; i++) assert.ok(events[i]!.timestamp >= events[i - 1]!.timestamp);
	// Image creation and layer creation from history; tagging from lastUpdated.
	for (const kind of ['image.created', 'layer.created', 'image.step', 'image.tagged', 'file.modified'])
		assert.ok(
			events.some(e => e.kind === kind),
			kind,
		);
});

test('--files: the RW layer of a container that changed files, with the deletion marked', async () => {
	const {model, source} = await sample();
	const events = await buildTimeline(model, source, {files: true, logs: false});
	const id = expected.facts.containerIds.app_exited!;
	const files = events.filter(e => e.kind === 'rwfile.modified' && e.subject === `container:${id}`).map(e => e.message);
	assert.ok(
		files.some(m => m.includes('/new.txt file changed')),
		files.join('\n'),
	);
	assert.ok(
		files.some(m => m.includes('/app/hello.txt deleted (whiteout)')),
		files.join('\n'),
	);
});

test('JSON Lines and CSV carry the fields Timesketch imports: message, datetime (ISO 8601), timestamp_desc, timestamp (µs)', async () => {
	const {model, source} = await sample();
	const events = await buildTimeline(model, source, {files: false, logs: true});
	const lines = timelineJsonl(events)
		.trimEnd()
		.split('\n')
		.map(l => JSON.parse(l) as Record<string, unknown>);
	assert.is(lines.length, events.length);
	for (const l of lines) {
		assert.type(l.message, 'string');
		assert.type(l.timestamp_desc, 'string');
		assert.type(l.timestamp, 'number');
		assert.match(String(l.datetime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
		assert.is(
			Math.floor(Date.parse(String(l.datetime)) / 1000),
			Math.floor(Number(l.timestamp) / 1e6),
			'datetime and timestamp agree',
		);
	}
	const csv = timelineCsv(events).split('\r\n');
	assert.is(csv[0], 'message,datetime,timestamp_desc,timestamp,kind,subject,source,field,source_time');
	assert.is(csv.length, events.length + 2);
	assert.match(timelineTable(events), /^TIME \(UTC\)\s+EVENT\s+WHAT\s+FROM/);
});

test('CSV cells that a spreadsheet would run as formulas are neutralised; JSON keeps them exact', () => {
	const e = {
		message: '=HYPERLINK("http://x")',
		datetime: '2026-01-01T00:00:00.000000Z',
		timestamp: 1,
		timestamp_desc: 'X',
		kind: 'k',
		subject: 's',
		source: '-p',
		field: 'f',
		source_time: 't',
	};
	const row = timelineCsv([e]).split('\r\n')[1]!;
	assert.ok(row.startsWith(`"'=HYPERLINK(""http://x"")"`), row);
	assert.ok(row.includes(",'-p,"));
	assert.is(JSON.parse(timelineJsonl([e])).message, '=HYPERLINK("http://x")');
});

test('local log records: truncated and garbage input gives what can be read, never throws', () => {
	const rec = (line: string) => {
		const text = Buffer.from(line);
		const msg = Buffer.concat([
			Buffer.from([0x0a, 6]),
			Buffer.from('stdout'),
			Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x10]),
			Buffer.from([0x1a, text.length]),
			text,
		]);
		const len = Buffer.alloc(4);
		len.writeUInt32BE(msg.length);
		return Buffer.concat([len, msg, len]);
	};
	const data = Buffer.concat([rec('one\n'), rec('two\n')]);
	assert.equal(
		localEntries(data).map(e => e.line),
		['one\n', 'two\n'],
	);
	assert.equal(
		localEntries(data.subarray(0, data.length - 3)).map(e => e.line),
		['one\n'],
	);
	assert.equal(localEntries(Buffer.from('garbage garbage garbage')), []);
});

test.run();
