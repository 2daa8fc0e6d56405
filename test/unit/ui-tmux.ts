import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {realRoot} from '../helpers/real-fixtures.ts';
import {repo} from '../helpers/run-cli.ts';
import {hasTmux, TmuxSession} from '../helpers/tmux.ts';

const bin = path.join(repo, 'bin', 'layerlens');

test('end to end in tmux on the real overlay2 tree: open, expand, search, help, resize, quit; the terminal is restored', async () => {
	if (!hasTmux()) {
		if (process.env.CI) assert.unreachable('tmux is required under CI');
		return console.log('  (skipped: no tmux here)');
	}
	const root = realRoot('overlay2');
	if (root === null) return console.log('  (skipped: no real fixtures here)');
	const t = new TmuxSession(
		`sh -c 'echo BEFORE-UI; ${process.execPath} ${bin} --root ${root}; echo "EXITED $?"; sleep 600'`,
		100,
		30,
	);
	try {
		// Open: the tree, the details of the first container, the status bar, in the alternate screen
		// (the containers come first, read by a worker; the status bar counts the rest once it is in).
		let s = await t.waitFor(/containers \(5\)[\s\S]*5 containers · 1 image/);
		assert.not.match(s, /BEFORE-UI/, 'the UI is on the alternate screen');
		assert.match(s, /details: container mystifying_murdock/);
		assert.match(s, /5 containers · 1 image · 1 layer · 0 findings/);
		const rows = s.split('\n');
		assert.ok(rows.every(r => r.length <= 100));
		// Expand the selected container: its chain.
		await new Promise(r => setTimeout(r, 300));
		t.keys('Enter');
		s = await t.waitFor(
			/▾ mystifying_murdock[\s\S]*rw +fc790748d906[\s\S]*init +fc790748d906-init[\s\S]*layer +583c602e6bde[\s\S]*image +busybox:latest/,
		);
		// Search a name.
		t.type('/festive');
		s = await t.waitFor(/\/festive▏ +1 of 1/);
		t.keys('Enter');
		s = await t.waitFor(/› +▸ festive_perlman[\s\S]*details: container festive_perlman/);
		assert.match(s, /status +running/);
		// Help.
		t.type('?');
		s = await t.waitFor(/▶ help ─/);
		assert.match(s, /q Ctrl-C +quit/);
		t.keys('Escape');
		await t.waitFor(/▶ tree/);
		// Resize to 80x24: the frame follows and still fits.
		t.resize(80, 24);
		s = await t.waitFor(/▶ tree ─+ 1-\d+ of \d+\n(?:.*\n){8}/);
		await new Promise(r => setTimeout(r, 300));
		s = t.capture();
		const lines = s.replace(/\n+$/, '').split('\n');
		assert.ok(lines.length <= 24, `${lines.length} lines`);
		assert.ok(
			lines.every(l => l.length <= 80),
			'no line wider than 80',
		);
		assert.match(lines[lines.length - 1]!, /5 containers/, 'the status bar is the last line');
		assert.match(s, /details: container festive_perlman/);
		// Quit: the alternate screen is left, the shell's screen is back, the exit code is 0.
		t.type('q');
		s = await t.waitFor(/EXITED \d+/);
		assert.match(s, /BEFORE-UI/);
		assert.match(s, /EXITED 0/);
		assert.not.match(s, /▶ tree|details:/, 'nothing of the UI is left on the screen');
	} finally {
		t.kill();
	}
});

test('keys typed before the UI is up are not echoed and are handled once it is', async () => {
	if (!hasTmux()) return;
	const root = realRoot('overlay2');
	if (root === null) return;
	const t = new TmuxSession(`sh -c '${process.execPath} ${bin} --root ${root}; echo "EXITED $?"; sleep 600'`, 100, 30);
	try {
		t.type('jj');
		const s = await t.waitFor(/› +▸ zealous_lalande[\s\S]*5 containers · 1 image/);
		assert.not.match(s, /^jj/m, 'no echo');
		t.type('q');
		assert.match(await t.waitFor(/EXITED \d+/), /EXITED 0/);
	} finally {
		t.kill();
	}
});

test('an archive (the sample) is read in the UI thread, after the loading line', async () => {
	if (!hasTmux()) return;
	const t = new TmuxSession(`sh -c '${process.execPath} ${bin} --sample; echo "EXITED $?"; sleep 600'`, 100, 30);
	try {
		const s = await t.waitFor(/\d+ containers · \d+ images? · /);
		assert.match(s, /\(sample\)/);
		await new Promise(r => setTimeout(r, 300));
		t.type('q');
		assert.match(await t.waitFor(/EXITED \d+/), /EXITED 0/);
	} finally {
		t.kill();
	}
});

test('a directory that is not a Docker root: the usage error on the restored screen, exit 2', async () => {
	if (!hasTmux()) return;
	const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-not-docker-'));
	const t = new TmuxSession(
		`sh -c 'echo BEFORE-UI; ${process.execPath} ${bin} --root ${empty}; echo "EXITED $?"; sleep 600'`,
		100,
		30,
	);
	try {
		const s = await t.waitFor(/EXITED \d+/);
		assert.match(s, /BEFORE-UI\nlayerlens: [\s\S]*not a Docker root[\s\S]*\nEXITED 2/);
	} finally {
		t.kill();
		fs.rmSync(empty, {recursive: true, force: true});
	}
});

test('Ctrl-C quits too; a non-terminal stdout gets the plain text tree, no UI', async () => {
	if (!hasTmux()) return;
	const root = realRoot('overlay2');
	if (root === null) return;
	const t = new TmuxSession(
		`sh -c '${process.execPath} ${bin} --root ${root}; echo "EXITED $?"; ${process.execPath} ${bin} --root ${root} | head -3; sleep 600'`,
		100,
		30,
	);
	try {
		await t.waitFor(/containers \(5\)/);
		await new Promise(r => setTimeout(r, 300));
		t.keys('C-c');
		const s = await t.waitFor(/EXITED \d+[\s\S]*5 containers, 1 image/);
		assert.match(s, /EXITED 0/);
		assert.match(s, /Docker root .*layout v2/);
	} finally {
		t.kill();
	}
});

test.run();
