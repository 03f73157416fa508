// The AWS SDK warns once per process that releases after January 2027 need Node 22; the tests run
// on the Node 20 the project still supports, and the warning would bury every test's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
