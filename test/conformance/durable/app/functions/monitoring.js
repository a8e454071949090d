const df = require('durable-functions');

// A monitor with a durable timer and continueAsNew, as in the samples' monitor pattern.
df.app.orchestration('countdownMonitor', function* (context) {
  const left = context.df.getInput();
  context.df.setCustomStatus({ left });
  if (left <= 0) return 'done';
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 50));
  context.df.continueAsNew(left - 1);
});

// Human interaction: an approval event against a timeout.
df.app.orchestration('approvalWorkflow', function* (context) {
  const timeout = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 60 * 60 * 1000));
  const approval = context.df.waitForExternalEvent('Approval');
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    return { approved: approval.result };
  }
  return { approved: false };
});
