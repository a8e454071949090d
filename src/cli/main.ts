import { run } from './program';

/** Entry point of `ledgerflow` (bin/ledgerflow.js). Sets the exit code and lets pending
 * output drain instead of calling process.exit. */
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
