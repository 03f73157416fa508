// ts-jest only transpiles (tsconfig `isolatedModules`); `npm run typecheck` type-checks once for all.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  setupFiles: ['<rootDir>/test/support/jest-env.ts'],
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  // Sidekiq scenarios each own their Redis and processes; two workers fit two cores.
  reporters: ['default', '<rootDir>/test/support/closing-line-reporter.js'],
  maxWorkers: 2,
  testTimeout: 60_000,
};
