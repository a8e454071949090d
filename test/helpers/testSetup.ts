import fc from 'fast-check';

/**
 * Loaded into every test process by scripts/run-tests.js (`--require`).
 *
 * fast-check keeps a failing predicate's own error in the report's `cause`, which node's
 * test runner does not print: a property that failed in CI said only "Property failed after
 * 2 tests" and its counterexample, and the run could not be diagnosed. With this the error
 * (its message and stack) is part of the report.
 */
fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });
