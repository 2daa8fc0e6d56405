import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {type Io, UsageError, notDockerRoot, paintFor, colorOn} from '../../src/commands/context.ts';

const io = (isTTY: boolean, env: Record<string, string | undefined> = {}): Io => ({
	stdout: {write: () => true, isTTY},
	stderr: {write: () => true},
	env,
});

test('one colour decision: a terminal, no --no-color, no NO_COLOR', () => {
	assert.ok(colorOn({color: true}, io(true)));
	assert.not.ok(colorOn({color: false}, io(true)), '--no-color');
	assert.not.ok(colorOn({color: true}, io(false)), 'not a terminal');
	assert.not.ok(colorOn({color: true}, io(true, {NO_COLOR: '1'})), 'NO_COLOR=1');
	assert.ok(colorOn({color: true}, io(true, {NO_COLOR: ''})), 'an empty NO_COLOR is unset');
	assert.is(paintFor({color: false}, io(true)).error('x'), 'x');
	assert.is(paintFor({color: true}, io(true)).error('x'), '\x1b[31mx\x1b[39m');
});

test('one "not a Docker root" message, a usage error', () => {
	const e = notDockerRoot('/some/dir');
	assert.instance(e, UsageError);
	assert.is(e.message, '/some/dir: not a Docker root (no containers/, image/ or driver directories)');
});

test.run();
