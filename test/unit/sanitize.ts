import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {clean, parseEscapes, safeJson} from '../../src/view/sanitize.ts';
import {decodeName} from '../../src/formats/names.ts';
import {humanSize, utc} from '../../src/view/format.ts';

test('terminal control characters and escape sequences are shown, not obeyed', () => {
	assert.is(clean('evil\u001b[2J\u001b]0;title\u0007name'), 'evil\\x1b[2J\\x1b]0;title\\x07name');
	assert.is(clean('a\nb\tc\rd'), 'a\\nb\\tc\\rd');
	// C1 as \u0080…\u009f, so that it cannot be mistaken for a raw byte (\xNN)
	assert.is(clean('\u009b31m\u0080\u009f'), '\\u009b31m\\u0080\\u009f');
	assert.is(clean('\u007f'), '\\x7f');
	assert.is(clean('file\u202etxt.exe'), 'file\\u202etxt.exe');
	assert.is(clean('plain-name_1.2 ünïcode'), 'plain-name_1.2 ünïcode');
});

// Every invisible or reordering character layerlens must show visibly, and the Unicode classes they come from.
const invisible: Array<[string, string]> = [
	['\u061c', '\\u061c'],
	['\u00ad', '\\u00ad'],
	['\u180e', '\\u180e'],
	['\u200b', '\\u200b'],
	['\u200d', '\\u200d'],
	['\u200f', '\\u200f'],
	['\u202a', '\\u202a'],
	['\u202e', '\\u202e'],
	['\u2028', '\\u2028'],
	['\u2029', '\\u2029'],
	['\u2060', '\\u2060'],
	['\u2066', '\\u2066'],
	['\u2069', '\\u2069'],
	['\u206a', '\\u206a'],
	['\u206f', '\\u206f'],
	['\ufeff', '\\ufeff'],
	['\ufff9', '\\ufff9'],
	['\ufffb', '\\ufffb'],
	['\u3164', '\\u3164'],
	['\u115f', '\\u115f'],
	['\u1160', '\\u1160'],
	['\uffa0', '\\uffa0'],
	['\u034f', '\\u034f'],
	['\ufe0f', '\\ufe0f'],
	['\u{e0001}', '\\u{e0001}'],
	['\u{e0041}', '\\u{e0041}'],
	['\u{e007f}', '\\u{e007f}'],
	['\u{e0100}', '\\u{e0100}'],
	['\ud800', '\\ud800'],
	['\udfff', '\\udfff'],
];

test('every invisible, bidi and format character is shown as an escape', () => {
	for (const [c, shown] of invisible) assert.is(clean(`a${c}b`), `a${shown}b`, shown);
	// every code point of the classes, not just the listed ones
	for (let cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff) continue;
		const c = String.fromCodePoint(cp);
		const hidden = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u.test(c);
		if (hidden) assert.is.not(clean(c), c, cp.toString(16));
		if (hidden) assert.ok(/^\\[xnrtu]/.test(clean(c)), cp.toString(16));
	}
	// visible text stays as it is, astral characters included
	assert.is(clean('é 日本 \u{1F600} a\u00a0b'), 'é 日本 \u{1F600} a\u00a0b');
});

test("a name's raw bytes (U+DC80 + byte) show as \\xNN, and parseEscapes turns every escape back", () => {
	const name = decodeName(Buffer.from([0x61, 0xff, 0xfe, 0x1b, 0x62]));
	assert.is(clean(name), 'a\\xff\\xfe\\x1bb');
	const samples = [
		name,
		'file\u202etxt',
		'x\u{e0041}y',
		'tab\there\nnl',
		'\u009b31m',
		decodeName(Buffer.from([0xc3, 0x28])),
		'ok-plain',
	];
	for (const s of samples) assert.is(parseEscapes(clean(s)) ?? clean(s), s, clean(s));
	assert.is(parseEscapes('plain'), undefined);
	assert.is(parseEscapes('a\\qb'), undefined, 'an unknown escape is no escape');
	assert.is(parseEscapes('\\x41'), 'A');
});

test('safeJson keeps exact values and writes invisible characters, C1 and lone surrogates as \\uXXXX', () => {
	const value = {
		name: 'a\u009b[31m\u202e\u200b\u2028\u{e0041}\ud800\u007f\u001b z',
		n: [1, 2],
		nested: {'k\u2066': 'v'},
	};
	const text = safeJson(value, 2);
	assert.equal(JSON.parse(text), value, 'exact values');
	assert.not.match(text, /[\u007f-\u009f\u2028\u2029\u200b\u202e\u2066]|[\ud800-\udfff]/);
	assert.match(text, /a\\u009b\[31m\\u202e\\u200b\\u2028\\udb40\\udc41\\ud800\\u007f\\u001b z/);
	assert.ok(text.includes('\n  "n": [\n'), 'indentation kept');
	assert.is(safeJson(undefined), 'null');
	assert.is(safeJson('é\u{1F600}'), '"é\u{1F600}"');
});

test('sizes as docker prints them', () => {
	assert.is(humanSize(0), '0B');
	assert.is(humanSize(999), '999B');
	assert.is(humanSize(1109996), '1.11MB');
	assert.is(humanSize(1982284), '1.98MB');
	assert.is(humanSize(1000), '1kB');
	assert.is(humanSize(5_300_000_000), '5.3GB');
	assert.is(humanSize(null), '-');
});

test('times in UTC to the second', () => {
	assert.is(utc('2017-02-13T16:43:20.189682791Z'), '2017-02-13 16:43:20 UTC');
	assert.is(utc('2017-02-13T17:43:20+01:00'), '2017-02-13 16:43:20 UTC');
	assert.is(utc(null), '-');
	assert.is(utc('garbage\u001b'), 'garbage\\x1b');
});

test.run();
