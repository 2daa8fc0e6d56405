import {runUiInPty} from './ui.ts';
const root = process.env['HOME'] + '/.cache/layerlens-bench/overlay2-3000/data';
for (let i = 0; i < 3; i++) {
const r = await runUiInPty([process.execPath, 'bin/layerlens', '--root', root], 3000);
const ms = r.keys.map(k => k.ms).sort((a, b) => a - b);
console.log(r.firstFrameMs.toFixed(0), r.fullMs.toFixed(0), 'median', ms[8]!.toFixed(0), 'max', ms[16]!.toFixed(0), r.keys.map(k => `${JSON.stringify(k.key)}:${k.ms.toFixed(0)}`).join(' '));
}
