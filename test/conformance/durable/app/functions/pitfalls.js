const df = require('durable-functions');

// A task yielded alone and then again inside Task.all: Azure would schedule it twice and hand
// Task.all another call's result; the embedded engine fails the orchestration instead.
df.app.orchestration('reyieldedTask', function* (context) {
  const a = context.df.callActivity('greet', 'a');
  yield a;
  const b = context.df.callActivity('greet', 'b');
  return yield context.df.Task.all([a, b]);
});

// The same calls without the re-yield: a task's result is kept in a variable.
df.app.orchestration('keptResult', function* (context) {
  const first = yield context.df.callActivity('greet', 'a');
  const rest = yield context.df.Task.all([context.df.callActivity('greet', 'b')]);
  return [first, ...rest];
});

df.app.activity('greet', { handler: (name) => `Hello ${name}` });

df.app.orchestration('failingOrchestration', function* (context) {
  return yield context.df.callActivity('explode', context.df.getInput());
});

df.app.activity('explode', {
  handler: () => {
    throw new Error('the activity exploded');
  },
});

df.app.orchestration('waitForever', function* (context) {
  return yield context.df.waitForExternalEvent('never');
});
