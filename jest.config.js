/** Tests run against real parts; TZ is forced to UTC by the npm script so no zone leaks in. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  testTimeout: 60_000,
  // Every temporary folder of a run lives under one, removed at the end also when tests fail (issue 20.6).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A handle a failed test left open must not keep the run alive past its results (CI would wait for its time
  // limit); the teardown names and stops leftover processes, so a leak still shows.
  forceExit: true,
};
