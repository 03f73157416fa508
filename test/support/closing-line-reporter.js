// Ends a jest run with one plain line, "N passed, N failed, N skipped", that any CI log reader
// understands without knowing jest's own summary format.
class ClosingLineReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(
      `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`,
    );
  }
}
module.exports = ClosingLineReporter;
