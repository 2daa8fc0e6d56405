// The CLI from source in its own process (node --import tsx test/helpers/cli-main.ts ARGS...):
// for tests that measure a whole command's peak memory (GNU time's %M) without a build.
import {main} from '../../src/cli.ts';

main();
