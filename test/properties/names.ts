import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {decodeName, encodeName, hasRawBytes, nameByteLength} from '../../src/formats/names.ts';
import {rng as seeded} from '../helpers/rng.ts';

test('valid UTF-8 decodes as usual and encodes back', () => {
	for (const s of ['', 'abc', 'héllo', '日本', '😀x', '\ufffd real replacement']) {
		const b = Buffer.from(s, 'utf8');
		assert.is(decodeName(b), s);
		assert.equal(encodeName(s), b);
		assert.is(hasRawBytes(s), false);
		assert.is(nameByteLength(s), b.length);
	}
});

test('invalid bytes become U+DC80+byte and round-trip', () => {
	const b = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xe0, 0x80, 0xaf, 0xf4, 0x90, 0x80, 0x80]);
	const s = decodeName(b);
	assert.is(s.slice(0, 4), 'a\udcffb\udcc3');
	assert.ok(hasRawBytes(s));
	assert.equal(encodeName(s), b);
	assert.is(nameByteLength(s), b.length);
});

test('a mix of a real U+FFFD and invalid bytes keeps both', () => {
	const b = Buffer.concat([Buffer.from('\ufffd', 'utf8'), Buffer.from([0x80])]);
	const s = decodeName(b);
	assert.is(s, '\ufffd\udc80');
	assert.equal(encodeName(s), b);
});

test('random byte strings round-trip', () => {
	const rng = seeded(12);
	for (let k = 0; k < 2000; k++) {
		const n = Math.floor(rng() * 24);
		const b = Buffer.alloc(n);
		for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
		assert.equal(encodeName(decodeName(b)), b);
	}
});

test.run();
