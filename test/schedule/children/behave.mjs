// A stand-in for dist/src/schedule/child.js in runner tests: does what the BEHAVE environment variable says
// with the request it receives, so the runner's handling of each way a run can end is tested on a real process.
const behave = process.env.BEHAVE;
// Ignoring SIGTERM from the first line, not from the request: a timeout that fires while the request is still
// on its way must find a child that ignores it, or the test sees SIGTERM end it.
if (behave === 'hang-ignoring-sigterm') process.on('SIGTERM', () => undefined);
// On SIGTERM, the record a run sends when the stop came after (`complete`) or before (`stopped`) its results
// were committed.
let request;
const finishOnSigterm = (status, exitCode) =>
  process.on('SIGTERM', () => process.send({ type: 'record', record: { job: request.job.name, run_id: request.runId, status, exit_code: exitCode, from: 'child' } }, () => process.exit(exitCode)));
if (behave === 'complete-on-sigterm') finishOnSigterm('ok', 0);
if (behave === 'stopped-on-sigterm') finishOnSigterm('interrupted', 143);
const input = { path: '/in/a.csv', bytes: 10, sha256: null, rows_in: 5, rows_out: 5, rows_rejected: 0, output: '/out/a.csv', rejects: null, status: 'ok', error: null, duration_ms: 1 };

process.once('message', (req) => {
  request = req;
  if (behave === 'record') {
    process.send({ type: 'record', record: { job: req.job.name, run_id: req.runId, status: 'ok', exit_code: 0, from: 'child' } }, () => process.disconnect());
  } else if (behave === 'sigkill-after-input') {
    process.send({ type: 'event', event: { type: 'input_finished', job: req.job.name, input } }, () => process.kill(process.pid, 'SIGKILL'));
  } else if (behave === 'exit-with-output') {
    process.stderr.write('loading model\nterminate called: native failure\n', () => process.exit(134));
  } else if (behave === 'hang-ignoring-sigterm' || behave === 'complete-on-sigterm' || behave === 'stopped-on-sigterm') {
    setInterval(() => undefined, 1000);
  }
});
