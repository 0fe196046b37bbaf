// A node:test reporter for scripts/run-tests.mjs: counts the runner's own results, not text another
// reporter printed (whose format changes between Node majors). A suite (describe) is not a test;
// a skipped or todo test is counted as skipped, whatever its outcome; a file that failed to load or
// exited early arrives as a failed test of its own. Writes one JSON line: { passed, failed, skipped }.
export default async function* testCounts(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 }
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    if (event.data.details?.type === 'suite') continue
    if (event.data.skip !== undefined || event.data.todo !== undefined) counts.skipped++
    else if (event.type === 'test:pass') counts.passed++
    else counts.failed++
  }
  yield `${JSON.stringify(counts)}\n`
}
