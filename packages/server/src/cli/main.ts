import { run } from './run.ts';

const code = await run(process.argv.slice(2));
// serve keeps the process alive; every other command ends here.
if (process.argv[2] !== 'serve' || code !== 0) process.exitCode = code;
