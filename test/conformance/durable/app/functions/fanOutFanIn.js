const df = require('durable-functions');

df.app.orchestration('fanOutFanIn', function* (context) {
  const count = context.df.getInput() || 5;
  const tasks = [];
  for (let i = 1; i <= count; i++) tasks.push(context.df.callActivity('square', i));
  const results = yield context.df.Task.all(tasks);
  return results.reduce((a, b) => a + b, 0);
});

df.app.activity('square', { handler: (n) => n * n });
