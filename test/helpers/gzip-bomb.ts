// A .tgz of a tree holding one big file of zeros, without compressing the zeros: `tar -cf -` is
// streamed and cut at that file's data; what comes before it is one gzip member, the zeros are one
// member of 1 GiB of zeros compressed once and written as many times as needed (then one member for
// any remainder), and what comes after is the last member. Concatenated gzip members inflate to the
// concatenation of their contents, so the .tgz inflates to exactly the bytes tar wrote, as
// `tar -czf` would make them, for a fraction of the CPU (deflating 10 GiB of zeros takes about a
// minute on a loaded machine; this deflates 1 GiB once).
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import * as fs from 'node:fs';
import zlib from 'node:zlib';
import {TarParser} from '../../src/formats/tar-format.ts';

const GIB = 1024 ** 3;
const ZERO_CHUNK = Buffer.alloc(1 << 20);

/** One gzip member of `size` zero bytes (size a multiple of 1 MiB), held in memory (about 1 MB per GiB). */
async function zerosMember(size: number): Promise<Buffer> {
	const gz = zlib.createGzip();
	const parts: Buffer[] = [];
	gz.on('data', (b: Buffer) => parts.push(b));
	for (let left = size; left > 0; left -= ZERO_CHUNK.length) {
		if (!gz.write(ZERO_CHUNK.subarray(0, Math.min(left, ZERO_CHUNK.length)))) await once(gz, 'drain');
	}
	gz.end();
	await once(gz, 'end');
	return Buffer.concat(parts);
}

/** Writes the bytes given to one gzip member appended to `out`; `end()` waits until all of it is in `out`. */
function member(out: fs.WriteStream): {write(b: Buffer): Promise<void>; end(): Promise<void>} {
	const gz = zlib.createGzip();
	gz.pipe(out, {end: false});
	return {
		write: async b => {
			if (!gz.write(b)) await once(gz, 'drain');
		},
		end: async () => {
			gz.end();
			await once(gz, 'end');
		},
	};
}

async function writeOut(out: fs.WriteStream, b: Buffer): Promise<void> {
	if (!out.write(b)) await once(out, 'drain');
}

/**
 * Runs `tar <tarArgs> -cf - <paths>` in cwd and writes its stream, gzipped as above, to outFile. The
 * member named zerosName (as tar names it) must be a regular file of zeros whose size is a multiple
 * of 1 MiB (a file made with `truncate -s`). Returns the number of zero bytes written as repeats.
 */
export async function tgzWithZeros(
	cwd: string,
	tarArgs: string[],
	paths: string[],
	zerosName: string,
	outFile: string,
): Promise<number> {
	const tar = spawn('tar', [...tarArgs, '-cf', '-', ...paths], {cwd, stdio: ['ignore', 'pipe', 'inherit']});
	const exited = once(tar, 'close');
	const out = fs.createWriteStream(outFile);
	let zeros: {offset: number; size: number} | undefined;
	const problems: string[] = [];
	const parser = new TarParser({
		entry: h => {
			if (h.name === zerosName && h.type === 'file') zeros = {offset: h.dataOffset, size: h.dataSize};
			return false;
		},
		data: () => {},
		truncated: h => problems.push(`truncated: ${h.name}`),
		problem: m => problems.push(m),
	});
	const head = member(out);
	let tail: ReturnType<typeof member> | undefined;
	let pos = 0;
	for await (const chunk of tar.stdout as AsyncIterable<Buffer>) {
		const start = pos;
		pos += chunk.length;
		if (tail !== undefined) {
			const from = Math.max(0, zeros!.offset + zeros!.size - start);
			if (from < chunk.length) await tail.write(chunk.subarray(from));
			continue;
		}
		if (zeros === undefined) parser.push(chunk);
		if (zeros === undefined) {
			await head.write(chunk);
			continue;
		}
		if (zeros.offset >= start) {
			// The cut falls in this chunk (or exactly at its start): the head ends here, the zeros follow.
			await head.write(chunk.subarray(0, zeros.offset - start));
			await head.end();
			await writeZeros(out, zeros.size);
			tail = member(out);
		}
		const from = zeros.offset + zeros.size - start;
		if (tail !== undefined && from < chunk.length) await tail.write(chunk.subarray(Math.max(0, from)));
	}
	const [code] = (await exited) as [number | null];
	if (code !== 0) throw new Error(`tar exited with ${code}`);
	if (zeros === undefined || tail === undefined) throw new Error(`${zerosName}: not in the tar stream`);
	if (problems.length > 0) throw new Error(problems.join('; '));
	await tail.end();
	out.end();
	await once(out, 'finish');
	return zeros.size;
}

/** `size` zero bytes as repeated 1 GiB members and one member for the rest. */
async function writeZeros(out: fs.WriteStream, size: number): Promise<void> {
	if (size % ZERO_CHUNK.length !== 0) throw new Error(`${size}: not a multiple of 1 MiB`);
	const whole = Math.floor(size / GIB);
	if (whole > 0) {
		const gib = await zerosMember(GIB);
		for (let i = 0; i < whole; i++) await writeOut(out, gib);
	}
	if (size % GIB > 0) await writeOut(out, await zerosMember(size % GIB));
}
