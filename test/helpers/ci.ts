// Whether the tests run in CI (.ci/run sets CI=true): there everything a test needs is installed,
// so a test whose tool or image is missing fails instead of skipping.
export const inCi = process.env['CI'] === 'true' || process.env['CI'] === '1';
