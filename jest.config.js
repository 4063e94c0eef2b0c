/** Tests run against real parts; TZ is forced to UTC by the npm script so no zone leaks in. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  testTimeout: 60_000,
};
